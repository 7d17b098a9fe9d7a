"""TFMA metrics that compare a classifier (or a transcriber) with the challenger fitted in the same run.

Any classification task (text: TF-IDF + logistic regression; vision: logistic regression
on pixels), and speech, whose transcripts are scored as exact strings and by characters.
Both predict the same eval examples in the same pass: the candidate's `label` output
(speech: `transcript`) and the challenger's `baseline_label` (`baseline_transcript`), from
the `evaluation` signature, against the raw `label` feature (`transcript`). Keys: accuracy
(the candidate's), baseline_accuracy, and accuracy_over_baseline = candidate accuracy -
challenger accuracy, reported beside the paired gate (components/paired_gate.py); and, for
transcripts, cer and baseline_cer (character error rates).
"""
from __future__ import annotations

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.tfma_inputs import model_outputs
from components.transcripts import edit_distance
from data import features

ACCURACY = "accuracy"  # the candidate's exact-match accuracy
BASELINE_ACCURACY = "baseline_accuracy"
ACCURACY_OVER_BASELINE = "accuracy_over_baseline"
METRIC_NAMES = (ACCURACY, BASELINE_ACCURACY, ACCURACY_OVER_BASELINE)  # a classifier's
CER = "cer"
BASELINE_CER = "baseline_cer"
TRANSCRIPT_METRIC_NAMES = (ACCURACY, CER, BASELINE_ACCURACY, BASELINE_CER, ACCURACY_OVER_BASELINE)


def _first(value) -> bytes | None:
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    return flat[0] if flat.size else None


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value is not None else ""


class _AgreementCombiner(beam.CombineFn):
    """Counts examples, the exact predictions of the candidate and of the challenger, their
    character edits and the reference characters."""

    def __init__(
        self,
        key: metric_types.MetricKey,
        label_key: str = features.LABEL_KEY,
        prediction_key: str = features.PREDICTED_LABEL_KEY,
    ):
        self._key, self._label_key, self._prediction_key = key, label_key, prediction_key

    def create_accumulator(self) -> list:
        return [0, 0, 0, 0, 0, 0]  # examples, candidate exact, challenger exact, their edits, characters

    def add_input(self, counts: list, element: metric_types.StandardMetricInputs) -> list:
        outputs = model_outputs(element, self._key.model_name)
        truth = _first(element.features[self._label_key])
        ours = _first(outputs.get(self._prediction_key))
        challenger_key = features.baseline_output_key(self._prediction_key)
        if challenger_key not in outputs:  # fail closed: a missing challenger is not a challenger that lost
            raise ValueError(
                f"the evaluation signature of model '{self._key.model_name or 'candidate'}' has no '{challenger_key}' "
                f"output (outputs: {sorted(outputs)}): the challenger cannot be compared, so nothing is blessed"
            )
        theirs = _first(outputs[challenger_key])
        counts[0] += 1
        counts[1] += int(ours == truth)
        counts[2] += int(theirs is not None and theirs == truth)
        if self._key.name in (CER, BASELINE_CER):
            counts[3] += edit_distance(_text(truth), _text(ours))
            counts[4] += edit_distance(_text(truth), _text(theirs))
            counts[5] += len(_text(truth))
        return counts

    def merge_accumulators(self, accumulators) -> list:
        return [sum(values) for values in zip(*accumulators, strict=True)]

    def extract_output(self, counts: list) -> dict:
        n, characters = max(counts[0], 1), max(counts[5], 1)
        values = {
            ACCURACY: counts[1] / n,
            BASELINE_ACCURACY: counts[2] / n,
            ACCURACY_OVER_BASELINE: (counts[1] - counts[2]) / n,
            CER: counts[3] / characters,
            BASELINE_CER: counts[4] / characters,
        }
        return {self._key: values[self._key.name]}


def _computations(name=None, label_key=features.LABEL_KEY, prediction_key=features.PREDICTED_LABEL_KEY,
                  eval_config=None, model_name="", output_name="", sub_key=None, example_weighted=False,
                  **unused) -> metric_types.MetricComputations:  # fmt: skip
    if name not in TRANSCRIPT_METRIC_NAMES:
        raise ValueError(f"BaselineAgreement name '{name}' must be one of {TRANSCRIPT_METRIC_NAMES}")
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    return [
        metric_types.MetricComputation(
            keys=[key],
            preprocessors=[metric_types.FeaturePreprocessor(feature_keys=[label_key])],
            combiner=_AgreementCombiner(key, label_key, prediction_key),
        )
    ]


class BaselineAgreement(metric_types.Metric):
    """One of TRANSCRIPT_METRIC_NAMES (its `name`): the candidate's or the challenger's accuracy or
    CER, or the candidate's accuracy margin over the challenger. `label_key` is the raw feature
    holding the truth, `prediction_key` the candidate's output (the challenger's is prefixed
    `baseline_`)."""

    def __init__(
        self,
        name: str = ACCURACY_OVER_BASELINE,
        challenger: str = "",
        label_key: str = features.LABEL_KEY,
        prediction_key: str = features.PREDICTED_LABEL_KEY,
        source_fingerprint: str = "",
    ):
        # `challenger` describes the baseline for the verdict (pipeline/inspect_mlmd.py reads it from the
        # EvalConfig); `source_fingerprint` is only part of the Evaluator's cache key (pipeline/evaluation.py).
        del challenger, source_fingerprint
        super().__init__(
            metric_util.merge_per_key_computations(_computations),
            name=name,
            label_key=label_key,
            prediction_key=prediction_key,
        )


metric_types.register_metric(BaselineAgreement)
