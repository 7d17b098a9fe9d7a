"""The Scorer's classifiers: the candidate, the challenger and, when the model has one, its wide part."""
import numpy as np
import tensorflow as tf

from components.classification import class_outputs, classify, with_challenger

NAMES = ["fresh", "rotten"]
MODEL = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], np.float32)
CHALLENGER = np.array([[0.4, 0.6], [0.2, 0.8], [0.5, 0.5]], np.float32)
WIDE = np.array([[0.7, 0.3], [0.1, 0.9], [0.45, 0.55]], np.float32)


def signature(wide):
    outputs = with_challenger(
        class_outputs(tf.constant(MODEL), NAMES),
        class_outputs(tf.constant(CHALLENGER), NAMES),
        class_outputs(tf.constant(WIDE), NAMES) if wide else None,
    )
    return lambda **_: outputs  # the evaluation signature's outputs, whatever the records


def test_the_wide_part_is_scored_beside_the_model_when_it_has_one():
    scored = classify(signature(wide=True), [b"a", b"b", b"c"])
    assert list(scored) == ["model", "baseline", "wide"]
    for name, expected in {"model": MODEL, "baseline": CHALLENGER, "wide": WIDE}.items():
        np.testing.assert_allclose(scored[name][0], expected)
        assert scored[name][1] == NAMES


def test_without_a_wide_part_only_the_model_and_the_challenger_are_scored():
    assert list(classify(signature(wide=False), [b"a", b"b", b"c"])) == ["model", "baseline"]
