"""The text gate against the bag-of-n-grams challenger, through TFMA's own validator."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_types

from components import classifier_metrics
from pipeline import evaluation_results
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


def _verdict(metrics: dict, min_improvement=0.0) -> tuple[bool, str]:
    config = load_config("text", overrides=[f"evaluation.min_improvement={min_improvement}"])
    text_config = text_gate.eval_config(config)
    eval_config = tfma.utils.update_eval_config_with_defaults(text_config, has_baseline=False, rubber_stamp=True)
    result = metrics_validator.validate_metrics(((), metrics), eval_config)
    failures = [{"metric": evaluation_results.metric_name(f.metric_key), "message": f.message}
                for s in result.metric_validations_per_slice for f in s.failures]  # fmt: skip
    candidate = {k.name: v for k, v in metrics.items()}
    challenger = evaluation_results.challenger_of(text_config)  # as inspect reads it from the Evaluator's EvalConfig
    return result.validation_ok, evaluation_results.verdict(
        result.validation_ok, failures, False, {"candidate": candidate}, challenger
    )


RNG = np.random.default_rng(0)
TRUTH = RNG.choice([b"fresh", b"rotten"], size=200)
FLIP = {b"fresh": b"rotten", b"rotten": b"fresh"}


def _with_accuracy(accuracy: float) -> list[bytes]:
    wrong = set(RNG.permutation(len(TRUTH))[: round((1 - accuracy) * len(TRUTH))])
    return [FLIP[t] if i in wrong else t for i, t in enumerate(TRUTH)]


def test_accuracies_are_counted():
    metrics = {k.name: v for k, v in _metrics(TRUTH, _with_accuracy(0.8), _with_accuracy(0.7)).items()}
    assert metrics[classifier_metrics.BASELINE_ACCURACY] == pytest.approx(0.7)
    assert metrics[classifier_metrics.ACCURACY_OVER_BASELINE] == pytest.approx(0.1)


def test_a_candidate_that_loses_to_the_baseline_is_stopped_and_the_baseline_named():
    blessed, why = _verdict(_metrics(TRUTH, _with_accuracy(0.75), _with_accuracy(0.78)))
    assert not blessed
    assert "stopped by the bag-of-n-grams baseline" in why and "0.7500 vs 0.7800" in why


def test_a_tie_is_not_a_win_and_the_margin_is_honoured():
    assert not _verdict(_metrics(TRUTH, _with_accuracy(0.8), _with_accuracy(0.8)))[0]
    metrics = _metrics(TRUTH, _with_accuracy(0.8), _with_accuracy(0.78))
    assert _verdict(metrics)[0]
    assert not _verdict(metrics, min_improvement=0.03)[0]
