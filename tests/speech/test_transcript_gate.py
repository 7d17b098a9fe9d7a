"""The gate's transcript metrics: exact accuracy and CER of the candidate and the challenger, counted in one pass."""
import numpy as np
from tensorflow_model_analysis.metrics import metric_types

from components import classifier_metrics, paired_gate
from pipeline.config import load_config
from tasks.speech import features
from tasks.speech.gate import eval_config as speech_eval_config
from tasks.speech.gate import gate as speech_gate

TRUTH = ["seven", "three", "nine", "one"]
OURS = ["seven", "thre", "nine", "one"]
THEIRS = ["seven", "three", "five", "nine"]


def test_transcript_accuracies_and_character_error_rates_are_counted():
    values = {}
    for name in classifier_metrics.TRANSCRIPT_METRIC_NAMES:
        key = metric_types.MetricKey(name=name)
        combiner = classifier_metrics._AgreementCombiner(key, features.TRANSCRIPT_KEY, features.TRANSCRIPT_KEY)
        counts = combiner.create_accumulator()
        for truth, ours, theirs in zip(TRUTH, OURS, THEIRS, strict=True):
            counts = combiner.add_input(counts, metric_types.StandardMetricInputs(
                features={features.TRANSCRIPT_KEY: np.array([truth.encode()])},
                predictions={features.TRANSCRIPT_KEY: np.array([ours.encode()]),
                             features.baseline_output_key(features.TRANSCRIPT_KEY): np.array([theirs.encode()])},
            ))  # fmt: skip
        values.update(combiner.extract_output(combiner.merge_accumulators([counts, combiner.create_accumulator()])))
    by_name = {k.name: v for k, v in values.items()}
    characters = sum(map(len, TRUTH))  # 17
    assert by_name == {
        "accuracy": 0.75,
        "baseline_accuracy": 0.5,
        "accuracy_over_baseline": 0.25,
        "cer": 1 / characters,  # one e missing
        "baseline_cer": (2 + 2) / characters,  # nine -> five (2), one -> nine (2)
    }


def test_a_missing_challenger_output_fails_the_metric_instead_of_counting_as_wrong():
    """Fail closed: without the challenger's predictions, the gate cannot say the candidate beat it."""
    import pytest

    key = metric_types.MetricKey(name=classifier_metrics.ACCURACY_OVER_BASELINE)
    combiner = classifier_metrics._AgreementCombiner(key, features.TRANSCRIPT_KEY, features.TRANSCRIPT_KEY)
    element = metric_types.StandardMetricInputs(
        features={features.TRANSCRIPT_KEY: np.array([b"seven"])}, predictions={features.TRANSCRIPT_KEY: np.array([b"seven"])}
    )
    with pytest.raises(ValueError, match="no 'baseline_transcript' output"):
        combiner.add_input(combiner.create_accumulator(), element)


def test_the_speech_gate_needs_better_than_the_challenger_and_no_loss_against_the_deployed_model():
    config = load_config("speech", overrides=["evaluation.deployed_margin=0.01"])
    spec = speech_gate(config)
    rules = {c.name: c.rule for c in spec.comparisons}
    assert rules == {"majority": paired_gate.SUPERIORITY, "baseline": paired_gate.SUPERIORITY}  # beat_strong by default
    assert spec.deployed_margin == 0.01
    assert {tuple(s.feature_keys) for s in speech_eval_config(config).slicing_specs} == {(), (features.SPEAKER_KEY,)}
