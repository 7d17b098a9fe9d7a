"""TFMA EvalConfigs: what the Evaluator measures and the thresholds that bless a model.

Metric names come from the metric modules and feature keys from `data.features`,
so nothing here is spelled twice.
"""
from __future__ import annotations

import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import classifier_metrics, export
from data import features
from data.config import SOURCE_FINGERPRINT_KEY, PipelineConfig
from pipeline.fingerprint import PROJECT_PACKAGES
from tasks.timeseries import challengers, forecast_metrics

TEXT_ACCURACY = "sparse_categorical_accuracy"  # TFMA's name for SparseCategoricalAccuracy


def checked_min_improvement(value: float, unit: str) -> float:
    """`evaluation.min_improvement`, the margin by which a model must beat its challenger, in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"evaluation.min_improvement ({value}) must be {unit} in [0, 1)")
    return float(value)


def challenger_ratio_bound(min_improvement: float) -> float:
    """Largest passing `<challenger>_ratio`: the model's MAE must be below the challenger's
    by at least `min_improvement` (a fraction); with 0 it must be strictly below."""
    return float(np.nextafter(1.0 - checked_min_improvement(min_improvement, "a fraction"), 0.0))


def timeseries_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Forecast errors of the candidate and of every challenger on the same eval windows.

    Bless only when the candidate's MAE beats each challenger's (persistence, seasonal
    naive, linear) by `evaluation.min_improvement`, and is at most `max_mae_increase`
    above the deployed model's. The Evaluator reads the `evaluation` signature, which
    returns the linear challenger's forecasts beside the model's."""
    series, limits = config.series, config.evaluation
    # TFMA collapses a single-output dict to its value: one target uses label/prediction
    # keys, several targets use per-output label keys. The metric reads labels from the
    # raw features and forecasts from the output dict, so both work.
    if len(series.target_columns) == 1:
        column = series.target_columns[0]
        model_spec = tfma.ModelSpec(
            signature_name=export.EVALUATION_SIGNATURE,
            label_key=features.target_key(column),
            prediction_key=features.forecast_output_key(column),
        )
    else:
        model_spec = tfma.ModelSpec(
            signature_name=export.EVALUATION_SIGNATURE,
            label_keys={features.forecast_output_key(c): features.target_key(c) for c in series.target_columns},
        )
    bound = challenger_ratio_bound(limits.get("min_improvement", 0.0))
    thresholds = {
        forecast_metrics.challenger_metric(c, "ratio"): tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(upper_bound={"value": bound})
        )
        for c in challengers.CHALLENGERS
    }
    thresholds[forecast_metrics.FORECAST_MAE] = tfma.MetricThreshold(
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.LOWER_IS_BETTER,
            absolute={"value": limits.get("max_mae_increase", 0.0)},
        )
    )
    options = {"columns": list(series.target_columns), "season": series.season}
    metrics = [
        tfma.MetricConfig(
            class_name=forecast_metrics.ForecastErrors.__name__,
            module=forecast_metrics.__name__,
            config=json.dumps({**options, "name": name}),
            threshold=thresholds.get(name),
        )
        for name in forecast_metrics.METRIC_NAMES
    ]
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[*metrics, tfma.MetricConfig(class_name="ExampleCount")])],
    )


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


TEXT_CHALLENGER = "bag-of-n-grams baseline (TF-IDF + logistic regression)"
VISION_CHALLENGER = "pixel baseline (logistic regression on pixels)"
SPEECH_CHALLENGER = "MFCC baseline (logistic regression on mean MFCCs over the train transcripts)"


def text_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """The classification gate, also sliced by text length."""
    return classification_eval_config(config, TEXT_CHALLENGER, [tfma.SlicingSpec(feature_keys=[features.LENGTH_BUCKET_KEY])])


def vision_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return classification_eval_config(config, VISION_CHALLENGER)


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


def speech_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Exact-transcript accuracy and character error rate of the candidate and of the MFCC challenger
    on the same eval clips, overall and by speaker; bless only when the candidate's accuracy beats the
    challenger's by more than `min_improvement` (accuracy points) and drops by at most
    `max_accuracy_drop` against the deployed model."""
    limits = config.evaluation
    margin = checked_min_improvement(float(limits.get("min_improvement", 0.0)), "accuracy points")
    keys = {"label_key": features.TRANSCRIPT_KEY, "prediction_key": features.TRANSCRIPT_KEY, "challenger": SPEECH_CHALLENGER}
    thresholds = {
        classifier_metrics.ACCURACY_OVER_BASELINE: tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": float(np.nextafter(margin, 1.0))})
        ),
        classifier_metrics.ACCURACY: tfma.MetricThreshold(
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": -limits.get("max_accuracy_drop", 0.0)},
            )
        ),
    }
    metrics = [
        tfma.MetricConfig(
            class_name=classifier_metrics.BaselineAgreement.__name__,
            module=classifier_metrics.__name__,
            config=json.dumps({"name": name, **keys}),
            per_slice_thresholds=overall_only(thresholds[name]) if name in thresholds else [],
        )
        for name in classifier_metrics.TRANSCRIPT_METRIC_NAMES
    ]
    return tfma.EvalConfig(
        # The transcript is a string: no label or prediction key for TFMA's own metrics to read.
        model_specs=[tfma.ModelSpec(signature_name=export.EVALUATION_SIGNATURE)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.SPEAKER_KEY])],
        metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), *metrics])],
    )


def custom_metric_modules(eval_config: tfma.EvalConfig) -> list[str]:
    """The project modules that define `eval_config`'s custom TFMA metrics."""
    return sorted({
        metric.module for spec in eval_config.metrics_specs for metric in spec.metrics
        if metric.module.split(".")[0] in PROJECT_PACKAGES
    })  # fmt: skip


def with_source_fingerprint(eval_config: tfma.EvalConfig, fingerprint: str) -> tfma.EvalConfig:
    """`eval_config` whose custom metrics carry `source_fingerprint` in their config.

    The Evaluator has no `custom_config`; its cache key is its EvalConfig. Each custom
    metric accepts (and ignores) `source_fingerprint`, so an edit to the metric or to
    the Evaluator's executor reruns the Evaluator (pipeline/fingerprint.py).
    """
    keyed = tfma.EvalConfig()
    keyed.CopyFrom(eval_config)
    modules = set(custom_metric_modules(eval_config))
    for spec in keyed.metrics_specs:
        for metric in spec.metrics:
            if metric.module in modules:
                options = json.loads(metric.config or "{}")
                metric.config = json.dumps({**options, SOURCE_FINGERPRINT_KEY: fingerprint})
    return keyed
