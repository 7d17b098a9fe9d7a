"""The text gate against the bag-of-n-grams challenger: TFMA's agreement metric (reported) and the paired rule (what blesses)."""
from __future__ import annotations

import numpy as np
import pytest
from tensorflow_model_analysis.metrics import metric_types

from components import classifier_metrics, examples_io, paired_gate
from pipeline.config import load_config
from tasks.text import features
from tasks.text import gate as text_gate


def _metrics(truth, ours, theirs) -> dict:
    values = {}
    for name in classifier_metrics.METRIC_NAMES:
        key = metric_types.MetricKey(name=name)
        combiner = classifier_metrics._AgreementCombiner(key)
        counts = combiner.create_accumulator()
        for label, mine, other in zip(truth, ours, theirs, strict=True):
            counts = combiner.add_input(counts, metric_types.StandardMetricInputs(
                features={features.LABEL_KEY: np.array([label])},
                predictions={features.PREDICTED_LABEL_KEY: np.array([mine]),
                             features.baseline_output_key(features.PREDICTED_LABEL_KEY): np.array([other])},
            ))  # fmt: skip
        values.update(combiner.extract_output(combiner.merge_accumulators([counts, combiner.create_accumulator()])))
    return values


def _judge(truth, ours, theirs, *overrides, wide=None) -> dict:
    """The paired classification gate as the Evaluator runs it, on serialized eval examples."""
    config = load_config("text", overrides=list(overrides))
    spec = text_gate.gate(config)
    records = [examples_io.to_tf_example({features.LABEL_KEY: [t.decode()]}).SerializeToString() for t in truth]
    outputs = {features.PREDICTED_LABEL_KEY: np.array(ours),
               features.baseline_output_key(features.PREDICTED_LABEL_KEY): np.array(theirs)}  # fmt: skip
    if wide is not None:
        outputs[features.WIDE_PREFIX + features.PREDICTED_LABEL_KEY] = np.array(wide)
    return paired_gate.judge(spec, text_gate.losses(outputs, records, spec.config))


RNG = np.random.default_rng(0)
TRUTH = RNG.choice([b"fresh", b"rotten"], size=1000, p=[0.6, 0.4])
FLIP = {b"fresh": b"rotten", b"rotten": b"fresh"}


def _with_accuracy(accuracy: float) -> list[bytes]:
    wrong = set(RNG.permutation(len(TRUTH))[: round((1 - accuracy) * len(TRUTH))])
    return [FLIP[t] if i in wrong else t for i, t in enumerate(TRUTH)]


def test_accuracies_are_counted():
    metrics = {k.name: v for k, v in _metrics(TRUTH, _with_accuracy(0.8), _with_accuracy(0.7)).items()}
    assert metrics[classifier_metrics.ACCURACY] == pytest.approx(0.8)
    assert metrics[classifier_metrics.BASELINE_ACCURACY] == pytest.approx(0.7)
    assert metrics[classifier_metrics.ACCURACY_OVER_BASELINE] == pytest.approx(0.1)


def test_a_candidate_that_clearly_loses_to_the_baseline_is_stopped_and_the_baseline_named():
    judged = _judge(TRUTH, _with_accuracy(0.70), _with_accuracy(0.80))
    assert not judged["blessed"]
    assert judged["gate"]["baseline"]["verdict"] == "worse"
    assert len(judged["reasons"]) == 1 and "bag-of-n-grams baseline" in judged["reasons"][0]


def test_a_tie_passes_non_inferiority_but_not_beat_strong():
    ours = _with_accuracy(0.8)
    judged = _judge(TRUTH, ours, ours[:900] + _with_accuracy(0.8)[900:])  # equal but for noise
    assert judged["blessed"], judged["reasons"]
    assert judged["gate"]["baseline"]["verdict"] == "no_difference"
    assert judged["gate"]["majority"]["verdict"] == "better"  # 0.8 against the majority's 0.6
    assert not _judge(TRUTH, ours, ours, "evaluation.beat_strong=true")["blessed"]


def test_the_transformer_gain_is_over_its_wide_part():
    ours = _with_accuracy(0.85)
    judged = _judge(TRUTH, ours, _with_accuracy(0.8), wide=ours)  # the model is its wide part
    gain = judged["transformer_gain"]
    assert gain["diff"] == 0 and gain["ci_low"] <= 0 <= gain["ci_high"] and "wide part" in gain["over"]
    assert "did not improve" in judged["statement"]
