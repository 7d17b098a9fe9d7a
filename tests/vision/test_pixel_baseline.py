"""The vision challenger (tasks/vision/baseline.py): what it learns, from which split, and that the
TensorFlow classifier carried into the SavedModel gives the fitted model's probabilities."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import LogisticRegression

from tasks.vision.baseline import fit_baseline


def _bright_pixel(n: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (n, 4, 4, 1), labels (n,)): noise, and one pixel per class 3 sd brighter: linearly separable."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    pixels = rng.normal(size=(n, 4, 4, 1)).astype("float32")
    pixels[np.arange(n), labels, 0, 0] += 3.0
    return pixels, labels


def _accuracy(classifier, data) -> float:
    return float((classifier(tf.constant(data[0])).numpy().argmax(axis=1) == data[1]).mean())


def test_linearly_separable_images_are_classified_almost_always_right():
    """Scored on images neither fitting nor choosing saw; a class absent from train is never predicted."""
    classifier, _, _ = fit_baseline(_bright_pixel(300, 3, 0), _bright_pixel(100, 3, 1), num_classes=4)
    test = _bright_pixel(500, 3, 2)
    assert _accuracy(classifier, test) >= 0.95  # the best possible here is about 0.97
    probabilities = classifier(tf.constant(test[0])).numpy()  # (500, 4)
    assert probabilities[:, 3].max() < 1e-6


def test_labels_unrelated_to_the_pixels_are_not_learned():
    """Random labels: on new images it does no better than chance (1/3) beyond noise."""
    rng = np.random.default_rng(3)
    noise = lambda n: (rng.normal(size=(n, 4, 4, 1)).astype("float32"), rng.integers(0, 3, n))  # noqa: E731
    classifier, _, _ = fit_baseline(noise(600), noise(200), num_classes=3)
    assert _accuracy(classifier, noise(2000)) < 0.38  # chance 0.333, sd 0.011


def test_it_is_fitted_on_train_only():
    """Eval labels choose a penalty and nothing else: shuffled, the classifier is the same; shuffled
    train labels change it."""
    train, evaluation = _bright_pixel(300, 3, 4), _bright_pixel(100, 3, 5)
    probe = tf.constant(_bright_pixel(50, 3, 6)[0])
    fitted = lambda tr, ev: fit_baseline(tr, ev, num_classes=3, penalties=(0.1,))[0](probe).numpy()  # noqa: E731
    shuffled = lambda data: (data[0], np.random.default_rng(7).permutation(data[1]))  # noqa: E731
    np.testing.assert_allclose(fitted(train, shuffled(evaluation)), fitted(train, evaluation), atol=1e-6)
    assert np.abs(fitted(shuffled(train), evaluation) - fitted(train, evaluation)).max() > 0.1


def test_the_penalty_that_does_better_on_eval_is_kept():
    """Pixel 1 is pixel 0's noise, and the class is only in pixel 0: the classes are told apart by
    pixel 0 minus pixel 1. A strong penalty shrinks the weights to the class means' difference
    (pixel 0 alone) and loses much of that; a weak one finds it. The weak one is kept."""
    rng = np.random.default_rng(8)

    def images(n):
        labels = rng.integers(0, 2, n)
        shared = rng.normal(0, 5, n)  # (n,): large noise, in both pixels
        pixels = rng.normal(0, 0.1, (n, 2, 1, 1)).astype("float32")
        pixels[:, 0, 0, 0] += shared + labels
        pixels[:, 1, 0, 0] += shared
        return pixels, labels

    classifier, penalty, accuracy = fit_baseline(images(400), images(200), num_classes=2, penalties=(1e-5, 10.0))
    assert penalty == 10.0 and accuracy[10.0] > accuracy[1e-5] + 0.2, accuracy
    assert _accuracy(classifier, images(500)) >= 0.95


@pytest.mark.parametrize("classes", [2, 3])
def test_the_exported_classifier_gives_the_fitted_models_probabilities(classes):
    """Binary (sklearn's single logit) and multi-class: the TensorFlow ops the Evaluator scores give
    scikit-learn's probabilities for the same pixels."""
    train, evaluation = _bright_pixel(300, classes, 9), _bright_pixel(100, classes, 10)
    classifier, penalty, _ = fit_baseline(train, evaluation, num_classes=classes, penalties=(0.1,))
    reference = LogisticRegression(C=penalty, max_iter=300).fit(train[0].reshape(300, -1), train[1])
    np.testing.assert_allclose(classifier(tf.constant(evaluation[0])).numpy(),
                               reference.predict_proba(evaluation[0].reshape(100, -1)), atol=1e-5)  # fmt: skip
