"""TFMA EvalConfigs: what the Evaluator measures and the thresholds that bless a model.

Metric names come from the metric modules and feature keys from `data.features`,
so nothing here is spelled twice.
"""
from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from components import export
from components.timeseries import forecast_metrics
from data import features
from pipeline.config import PipelineConfig


def timeseries_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Per target: forecast errors and naive baselines; bless only when the model beats
    seasonal naive on the same eval windows and is not worse than the deployed model."""
    series, limits = config.series, config.evaluation
    # TFMA collapses a single-output dict to its value: one target uses label/prediction
    # keys, several targets use per-output label keys and per-output metrics specs.
    single = len(series.target_columns) == 1
    if single:
        column = series.target_columns[0]
        model_spec = tfma.ModelSpec(
            signature_name=export.SERVING_SIGNATURE,
            label_key=features.target_key(column),
            prediction_key=features.forecast_output_key(column),
        )
    else:
        model_spec = tfma.ModelSpec(
            signature_name=export.SERVING_SIGNATURE,
            label_keys={features.forecast_output_key(c): features.target_key(c) for c in series.target_columns},
        )
    metrics_specs = []
    for column in series.target_columns:
        options = {"window_key": features.window_key(column), "season": series.season}
        thresholds = {
            forecast_metrics.SEASONAL_NAIVE_RATIO: tfma.MetricThreshold(
                value_threshold=tfma.GenericValueThreshold(
                    upper_bound={"value": limits.get("max_seasonal_naive_ratio", 1.0)}
                )
            ),
            forecast_metrics.FORECAST_MAE: tfma.MetricThreshold(
                change_threshold=tfma.GenericChangeThreshold(
                    direction=tfma.MetricDirection.LOWER_IS_BETTER,
                    absolute={"value": limits.get("max_mae_increase", 0.0)},
                )
            ),
        }
        metrics = [
            tfma.MetricConfig(
                class_name=forecast_metrics.ForecastErrors.__name__,
                module=forecast_metrics.__name__,
                config=json.dumps({**options, "name": name}),
                threshold=thresholds.get(name),
            )
            for name in forecast_metrics.METRIC_NAMES
        ]
        metrics_specs.append(
            tfma.MetricsSpec(
                metrics=[*metrics, tfma.MetricConfig(class_name="ExampleCount")],
                output_names=[] if single else [features.forecast_output_key(column)],
            )
        )
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=metrics_specs,
    )
