"""The time-series gate: forecast errors of the candidate and of every challenger on the same eval windows."""
from __future__ import annotations

import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import export
from components.gate_config import checked_min_improvement, number
from data.config import PipelineConfig
from tasks.timeseries import challengers, features, forecast_metrics


def challenger_ratio_bound(min_improvement: float) -> float:
    """Largest passing `<challenger>_ratio`: the model's MAE must be below the challenger's
    by at least `min_improvement` (a fraction); with 0 it must be strictly below."""
    return float(np.nextafter(1.0 - checked_min_improvement(min_improvement, "a fraction"), 0.0))


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
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


def rule(name: str, upper: float | None, lower: float | None) -> str | None:
    """A challenger's ratio threshold in words (pipeline/evaluation_results.py asks)."""
    del lower
    forecaster = forecast_metrics.ratio_challenger(name)
    if forecaster is None or upper is None:
        return None
    return f"MAE below {number(upper)} × the {forecaster} challenger's MAE"


def reason(failure: dict, candidate: dict) -> str | None:
    """Why a challenger's ratio failed: the challenger and both eval MAEs."""
    forecaster = forecast_metrics.ratio_challenger(failure["metric"])
    if forecaster is None:
        return None
    ours = candidate.get(forecast_metrics.FORECAST_MAE)
    theirs = candidate.get(forecast_metrics.challenger_metric(forecaster, "mae"))
    figures = f": eval MAE {ours:.4f} vs {theirs:.4f}" if None not in (ours, theirs) else ""
    return f"stopped by the {forecaster} challenger{figures}"
