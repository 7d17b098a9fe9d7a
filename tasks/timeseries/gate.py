"""The time-series gate: forecast errors of the candidate and of every challenger on the same eval windows."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import tensorflow_model_analysis as tfma

from components import export, paired_gate
from components.gate_config import gate_settings
from data.config import PipelineConfig
from tasks.timeseries import challengers, features, forecast_metrics, scores


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Forecast errors (MAE, RMSE) of the candidate and of every challenger on the same eval
    windows, reported; the blessing is the paired gate's (`gate`). The Evaluator reads the
    `evaluation` signature, which returns the linear challenger's forecasts beside the model's."""
    series = config.series
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
    options = {"columns": list(series.target_columns), "season": series.season}
    metrics = [
        tfma.MetricConfig(
            class_name=forecast_metrics.ForecastErrors.__name__,
            module=forecast_metrics.__name__,
            config=json.dumps({**options, "name": name}),
        )
        for name in forecast_metrics.METRIC_NAMES
    ]
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[*metrics, tfma.MetricConfig(class_name="ExampleCount")])],
    )


LINEAR_LABEL = "the linear challenger (ridge on the standardized windows)"
START_LABEL = "the ridge forecaster inside RevIN (its linear path's start)"


def gate(config: PipelineConfig) -> paired_gate.GateSpec:
    """MAE per eval window, in time order: better than persistence and seasonal naive
    (superiority), not worse than the ridge challenger by more than `evaluation.margin` of its
    MAE (or better, with `beat_strong`), nor than the deployed model by `deployed_margin`.
    Overlapping windows are resampled in blocks at least a horizon long (in time)."""
    settings = gate_settings(config, paired_gate.RELATIVE_UNIT)
    series = config.series
    return paired_gate.GateSpec(
        losses=f"{__name__}.losses",
        comparisons=(
            paired_gate.Comparison(challengers.PERSISTENCE, "the persistence challenger", paired_gate.SUPERIORITY),
            paired_gate.Comparison(challengers.SEASONAL_NAIVE, "the seasonal-naive challenger", paired_gate.SUPERIORITY),
            settings.strong(challengers.LINEAR, LINEAR_LABEL),
        ),
        deployed_margin=settings.deployed_margin,
        relative=True,
        unit=paired_gate.RELATIVE_UNIT,
        block=max(1, -(-int(series.horizon) // int(series.stride))),  # windows within a horizon of each other share targets
        ordered=True,  # windows in time order (the ExampleGen writes them so)
        # the patch model's linear path starts at the ridge solution: the challenger is its start
        start=challengers.LINEAR if config.model.get("variant", "patch") == "patch" else None,
        start_label=START_LABEL,
        config={"series": {k: getattr(series, k) for k in ("target_columns", "lookback", "horizon", "season")}},
    )


def losses(outputs: dict, records: list[bytes], config: dict) -> dict[str, np.ndarray]:
    """Absolute error per eval window (mean over horizon steps and target columns) of the
    candidate (`model`), the linear challenger and the two naive challengers."""
    series = SimpleNamespace(**config["series"])
    _, windows, truth = scores.read_split_records(records, series)
    found = scores.forecasts_in(outputs, series.target_columns)
    found.update(challengers.naive_forecasts(windows, series.horizon, series.season))
    return {name: np.abs(truth - f).mean(axis=(1, 2)) for name, f in found.items()}  # (N,) per window
