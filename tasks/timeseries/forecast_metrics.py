"""TFMA metrics for multi-step forecasts, scored against every challenger on the same windows.

TFMA's own regression metrics reduce each example to a scalar (`safe_to_scalar`)
and cannot score a horizon. `ForecastErrors` scores every step of every window of
every target column, in the user's units, and in the same pass scores the
challengers (`challengers.py`) on the same windows: persistence and seasonal naive
from the raw window the example carries, the linear forecaster from the model's
`linear_<column>` output (fitted on train by the Trainer, exported beside the model).

Keys: forecast_mae and forecast_rmse (the candidate); <challenger>_mae and
<challenger>_rmse; and <challenger>_ratio = candidate MAE / challenger MAE (< 1: the
candidate wins). Errors are computed per target column and averaged over columns.
The Evaluator's thresholds gate on these names, which are made here once.
"""
from __future__ import annotations

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.tfma_inputs import model_outputs
from tasks.timeseries import challengers, features

FORECAST_MAE = "forecast_mae"
FORECAST_RMSE = "forecast_rmse"


def challenger_metric(challenger: str, kind: str) -> str:
    """`<challenger>_mae`, `<challenger>_rmse` or `<challenger>_ratio`."""
    return f"{challenger}_{kind}"


def ratio_challenger(metric: str) -> str | None:
    """The challenger a `<challenger>_ratio` metric compares with (None for other metrics)."""
    for challenger in challengers.CHALLENGERS:
        if metric.split("{")[0].split("[")[0] == challenger_metric(challenger, "ratio"):
            return challenger
    return None


METRIC_NAMES = (
    FORECAST_MAE,
    FORECAST_RMSE,
    *(challenger_metric(c, k) for c in challengers.CHALLENGERS for k in ("mae", "rmse", "ratio")),
)


class _ForecastErrorsCombiner(beam.CombineFn):
    """Accumulates, per target column, sums of |error| and error^2 of each forecaster."""

    def __init__(self, key: metric_types.MetricKey, columns: list[str], season: int):
        self._key = key
        self._columns = columns
        self._season = season

    def create_accumulator(self) -> dict:
        return {"steps": 0, "abs": {}, "sq": {}}  # steps: forecast steps scored per column

    def add_input(self, sums: dict, element: metric_types.StandardMetricInputs) -> dict:
        outputs = model_outputs(element, self._key.model_name)
        horizon = 0
        for column in self._columns:
            window = np.asarray(element.features[features.window_key(column)], np.float64).reshape(-1)  # (T,)
            truth = np.asarray(element.features[features.target_key(column)], np.float64).reshape(-1)  # (H,)
            horizon = truth.size
            forecasts = {
                challengers.MODEL: outputs.get(features.forecast_output_key(column)),
                challengers.PERSISTENCE: challengers.persistence(window, horizon),
                challengers.SEASONAL_NAIVE: challengers.seasonal_naive(window, horizon, self._season),
                # absent from models exported before the linear challenger existed
                challengers.LINEAR: outputs.get(features.challenger_output_key(challengers.LINEAR, column)),
            }
            for name, forecast in forecasts.items():
                if forecast is None:
                    continue
                error = truth - np.asarray(forecast, np.float64).reshape(-1)
                cell = (name, column)
                sums["abs"][cell] = sums["abs"].get(cell, 0.0) + float(np.abs(error).sum())
                sums["sq"][cell] = sums["sq"].get(cell, 0.0) + float(np.square(error).sum())
        sums["steps"] += horizon
        return sums

    def merge_accumulators(self, accumulators) -> dict:
        total = self.create_accumulator()
        for sums in accumulators:
            total["steps"] += sums["steps"]
            for kind in ("abs", "sq"):
                for cell, value in sums[kind].items():
                    total[kind][cell] = total[kind].get(cell, 0.0) + value
        return total

    def _errors(self, sums: dict, name: str) -> dict[str, float] | None:
        """MAE and RMSE per column, averaged over columns (as `challengers.errors`)."""
        cells = [(name, c) for c in self._columns]
        steps = sums["steps"]
        if any(cell not in sums["abs"] for cell in cells) or not steps:
            return None
        return {
            "mae": float(np.mean([sums["abs"][cell] / steps for cell in cells])),
            "rmse": float(np.mean([np.sqrt(sums["sq"][cell] / steps) for cell in cells])),
        }

    def extract_output(self, sums: dict) -> dict:
        name = self._key.name
        model = self._errors(sums, challengers.MODEL)
        values = {}
        if model is not None:
            values[FORECAST_MAE], values[FORECAST_RMSE] = model["mae"], model["rmse"]
        for challenger in challengers.CHALLENGERS:
            found = self._errors(sums, challenger)
            if found is None:
                continue
            values[challenger_metric(challenger, "mae")] = found["mae"]
            values[challenger_metric(challenger, "rmse")] = found["rmse"]
            if model is not None:
                values[challenger_metric(challenger, "ratio")] = model["mae"] / max(found["mae"], 1e-12)
        return {self._key: values.get(name, float("nan"))}


def _computations(
    name=None,
    eval_config=None,
    model_name="",
    output_name="",
    sub_key=None,
    example_weighted=False,
    columns=(),
    season=24,
    **unused,
) -> metric_types.MetricComputations:
    if name not in METRIC_NAMES:
        raise ValueError(f"ForecastErrors name '{name}' must be one of {METRIC_NAMES}")
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    keys = [features.window_key(c) for c in columns] + [features.target_key(c) for c in columns]
    return [
        metric_types.MetricComputation(
            keys=[key],
            preprocessors=[metric_types.FeaturePreprocessor(feature_keys=keys)],
            combiner=_ForecastErrorsCombiner(key, list(columns), season),
        )
    ]


class ForecastErrors(metric_types.Metric):
    """One of METRIC_NAMES (its `name`): errors of the candidate or a challenger, or their ratio.

    One instance per name, so that TFMA thresholds (keyed by metric name) can gate each.
    Args:
      columns: the target columns; each has a raw window and a raw `<column>_target` feature.
      season: seasonal-naive period in steps.
    """

    def __init__(self, columns: list[str], season: int, name: str = FORECAST_MAE, source_fingerprint: str = ""):
        del source_fingerprint  # only part of the Evaluator's cache key (pipeline/evaluation.py)
        super().__init__(
            metric_util.merge_per_key_computations(_computations), name=name, columns=list(columns), season=season
        )


metric_types.register_metric(ForecastErrors)
