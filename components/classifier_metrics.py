"""TFMA metrics that compare a classifier with the challenger fitted in the same run.

Any classification task (text: TF-IDF + logistic regression; vision: logistic regression
on pixels). Both classify the same eval examples in the same pass: the candidate's
`label` output and the challenger's `baseline_label` (the `evaluation` signature). Keys:
baseline_accuracy, and accuracy_over_baseline = candidate accuracy - challenger accuracy,
on which the Evaluator's threshold gates (> `evaluation.min_improvement`).
"""
from __future__ import annotations

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.tfma_inputs import model_outputs
from data import features

BASELINE_ACCURACY = "baseline_accuracy"
ACCURACY_OVER_BASELINE = "accuracy_over_baseline"
METRIC_NAMES = (BASELINE_ACCURACY, ACCURACY_OVER_BASELINE)


def _first(value) -> bytes | None:
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    return flat[0] if flat.size else None


class _AgreementCombiner(beam.CombineFn):
    """Counts examples and the correct predictions of the candidate and of the challenger."""

    def __init__(self, key: metric_types.MetricKey):
        self._key = key

    def create_accumulator(self) -> list:
        return [0, 0, 0]  # examples, candidate correct, challenger correct

    def add_input(self, counts: list, element: metric_types.StandardMetricInputs) -> list:
        outputs = model_outputs(element, self._key.model_name)
        truth = _first(element.features[features.LABEL_KEY])
        ours = _first(outputs.get(features.PREDICTED_LABEL_KEY))
        theirs = _first(outputs.get(features.baseline_output_key(features.PREDICTED_LABEL_KEY)))
        counts[0] += 1
        counts[1] += int(ours == truth)
        counts[2] += int(theirs is not None and theirs == truth)
        return counts

    def merge_accumulators(self, accumulators) -> list:
        return [sum(values) for values in zip(*accumulators, strict=True)]

    def extract_output(self, counts: list) -> dict:
        n = max(counts[0], 1)
        values = {BASELINE_ACCURACY: counts[2] / n, ACCURACY_OVER_BASELINE: (counts[1] - counts[2]) / n}
        return {self._key: values[self._key.name]}


def _computations(name=None, eval_config=None, model_name="", output_name="", sub_key=None,
                  example_weighted=False, **unused) -> metric_types.MetricComputations:  # fmt: skip
    if name not in METRIC_NAMES:
        raise ValueError(f"BaselineAgreement name '{name}' must be one of {METRIC_NAMES}")
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    return [
        metric_types.MetricComputation(
            keys=[key],
            preprocessors=[metric_types.FeaturePreprocessor(feature_keys=[features.LABEL_KEY])],
            combiner=_AgreementCombiner(key),
        )
    ]


class BaselineAgreement(metric_types.Metric):
    """One of METRIC_NAMES (its `name`): the challenger's accuracy, or the candidate's margin over it."""

    def __init__(self, name: str = ACCURACY_OVER_BASELINE, challenger: str = "", source_fingerprint: str = ""):
        # `challenger` describes the baseline for the verdict (pipeline/inspect_mlmd.py reads it from the
        # EvalConfig); `source_fingerprint` is only part of the Evaluator's cache key (pipeline/evaluation.py).
        del challenger, source_fingerprint
        super().__init__(metric_util.merge_per_key_computations(_computations), name=name)


metric_types.register_metric(BaselineAgreement)
