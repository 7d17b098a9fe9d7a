"""The gate's shared TFMA pieces: the classification gate every classifier task uses, and helpers.

Metric names come from the metric modules and feature keys from `data.features`, so nothing
here is spelled twice. A task's own EvalConfig is in `tasks/<task>/gate.py`.
"""
from __future__ import annotations

import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import classifier_metrics, export
from data import features
from data.config import PipelineConfig

TEXT_ACCURACY = "sparse_categorical_accuracy"  # TFMA's name for SparseCategoricalAccuracy
SHOWN_DIGITS = 6  # bounds are shown rounded: 0.9999999999999999 (strictly below 1) reads as 1


def number(value: float) -> str:
    """A bound or value as a rule shows it: rounded, so 0.9999999999999999 (strictly below 1) reads as 1."""
    return f"{round(float(value), SHOWN_DIGITS):g}"


def checked_min_improvement(value: float, unit: str) -> float:
    """`evaluation.min_improvement`, the margin by which a model must beat its challenger, in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"evaluation.min_improvement ({value}) must be {unit} in [0, 1)")
    return float(value)


def schema_string_domain(schema_path: str, feature_name: str) -> list[str]:
    """The values of `feature_name`'s string domain in the curated schema."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    with open(schema_path) as handle:
        schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    for feature in schema.feature:
        if feature.name != feature_name:
            continue
        if feature.HasField("string_domain"):
            return list(feature.string_domain.value)
        for domain in schema.string_domain:
            if domain.name == feature.domain:
                return list(domain.value)
    raise ValueError(
        f"the schema {schema_path} declares no string domain for '{feature_name}': list the classes "
        "there (they are validated, and the Evaluator reports metrics per class)"
    )


def overall_only(threshold: tfma.MetricThreshold) -> list[tfma.PerSliceMetricThreshold]:
    """A threshold on the whole eval split only: slices (such as text length) are reported, not gated;
    a small slice would otherwise stop a model that wins overall."""
    return [tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]


def classification_eval_config(
    config: PipelineConfig, challenger: str, slices: list[tfma.SlicingSpec] = ()
) -> tfma.EvalConfig:
    """Accuracy, one-vs-rest AUC (macro over classes) and per-class precision/recall/AUC,
    overall and on `slices`; bless only when eval accuracy beats the `challenger` fitted in
    the same run by more than `min_improvement` (accuracy points) and drops by at most
    `max_accuracy_drop` against the deployed model."""
    limits = config.evaluation
    num_classes = len(schema_string_domain(config.schema_path, features.LABEL_KEY))
    margin = checked_min_improvement(float(limits.get("min_improvement", 0.0)), "accuracy points")
    model_spec = tfma.ModelSpec(
        signature_name=export.EVALUATION_SIGNATURE,
        label_key=features.LABEL_KEY,  # the user's string; TFMA maps it through `all_classes`
        prediction_key=features.PROBABILITIES_KEY,
    )
    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        per_slice_thresholds=overall_only(
            tfma.MetricThreshold(
                change_threshold=tfma.GenericChangeThreshold(
                    direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                    absolute={"value": -limits.get("max_accuracy_drop", 0.0)},
                ),
            )
        ),
    )
    beat_baseline = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": float(np.nextafter(margin, 1.0))})
    )
    against_baseline = [
        tfma.MetricConfig(
            class_name=classifier_metrics.BaselineAgreement.__name__,
            module=classifier_metrics.__name__,
            config=json.dumps({"name": name, "challenger": challenger}),
            per_slice_thresholds=overall_only(beat_baseline) if name == classifier_metrics.ACCURACY_OVER_BASELINE else [],
        )
        for name in classifier_metrics.METRIC_NAMES
    ]
    overall = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), accuracy, *against_baseline])
    macro_auc = tfma.MetricsSpec(  # one-vs-rest AUC of each class, averaged with equal weights
        metrics=[tfma.MetricConfig(class_name="AUC")],
        aggregate=tfma.AggregationOptions(
            macro_average=True, class_weights={i: 1.0 for i in range(num_classes)}
        ),
    )
    per_class = tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name=name) for name in ("AUC", "Precision", "Recall")],
        binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
    )
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec(), *slices],
        metrics_specs=[overall, macro_auc, per_class],
    )
