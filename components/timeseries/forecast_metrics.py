"""TFMA metrics for multi-step forecasts, with the seasonal-naive baseline built in.

TFMA's own regression metrics reduce each example to a scalar (`safe_to_scalar`)
and cannot score a horizon. `ForecastErrors` scores every step of every window,
in the user's units, and in the same pass scores two naive forecasts of the same
windows from the raw input window the example carries:

* persistence: every step equals the last observed value;
* seasonal naive: every step equals the value one season earlier.

Keys: forecast_mae, forecast_rmse, persistence_mae, seasonal_naive_mae and
seasonal_naive_ratio (model MAE / seasonal-naive MAE: < 1 means the model wins;
with a season of one day this is the MASE of the eval windows against that baseline).
The Evaluator's thresholds gate on these names, which live here once.
"""
from __future__ import annotations

import dataclasses

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

FORECAST_MAE = "forecast_mae"
FORECAST_RMSE = "forecast_rmse"
PERSISTENCE_MAE = "persistence_mae"
SEASONAL_NAIVE_MAE = "seasonal_naive_mae"
SEASONAL_NAIVE_RATIO = "seasonal_naive_ratio"
METRIC_NAMES = (FORECAST_MAE, FORECAST_RMSE, PERSISTENCE_MAE, SEASONAL_NAIVE_MAE, SEASONAL_NAIVE_RATIO)


def seasonal_naive(window: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Step h repeats the value `season * k` steps earlier, k the smallest that reaches the window."""
    steps = np.arange(horizon)
    back = season * (steps // season + 1)  # (H,)
    return window[len(window) + steps - back]


def persistence(window: np.ndarray, horizon: int) -> np.ndarray:
    return np.full((horizon,), window[-1])


@dataclasses.dataclass
class _Sums:
    count: int = 0  # forecast steps scored
    model_abs: float = 0.0
    model_sq: float = 0.0
    persistence_abs: float = 0.0
    seasonal_abs: float = 0.0


class _ForecastErrorsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, eval_config, window_key: str, season: int):
        self._key = key
        self._eval_config = eval_config
        self._window_key = window_key
        self._season = season

    def create_accumulator(self) -> _Sums:
        return _Sums()

    def add_input(self, sums: _Sums, element: metric_types.StandardMetricInputs) -> _Sums:
        key = self._key
        window = np.asarray(element.features[self._window_key], dtype=np.float64).reshape(-1)  # (T,)
        for label, prediction, _ in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=key.model_name,
            output_name=key.output_name,
            flatten=False,
            squeeze=False,
        ):
            label = np.asarray(label, dtype=np.float64).reshape(-1)  # (H,)
            prediction = np.asarray(prediction, dtype=np.float64).reshape(-1)  # (H,)
            horizon = label.size
            sums.count += horizon
            sums.model_abs += float(np.abs(label - prediction).sum())
            sums.model_sq += float(np.square(label - prediction).sum())
            sums.persistence_abs += float(np.abs(label - persistence(window, horizon)).sum())
            sums.seasonal_abs += float(np.abs(label - seasonal_naive(window, horizon, self._season)).sum())
        return sums

    def merge_accumulators(self, accumulators) -> _Sums:
        total = _Sums()
        for sums in accumulators:
            for field in dataclasses.fields(_Sums):
                setattr(total, field.name, getattr(total, field.name) + getattr(sums, field.name))
        return total

    def extract_output(self, sums: _Sums) -> dict:
        n = max(sums.count, 1)
        values = {
            FORECAST_MAE: sums.model_abs / n,
            FORECAST_RMSE: float(np.sqrt(sums.model_sq / n)),
            PERSISTENCE_MAE: sums.persistence_abs / n,
            SEASONAL_NAIVE_MAE: sums.seasonal_abs / n,
            SEASONAL_NAIVE_RATIO: sums.model_abs / max(sums.seasonal_abs, 1e-12),
        }
        return {self._key: values[self._key.name]}


def _computations(
    name=None,
    eval_config=None,
    model_name="",
    output_name="",
    sub_key=None,
    example_weighted=False,
    window_key="",
    season=24,
    **unused,
) -> metric_types.MetricComputations:
    if name not in METRIC_NAMES:
        raise ValueError(f"ForecastErrors name '{name}' must be one of {METRIC_NAMES}")
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    return [
        metric_types.MetricComputation(
            keys=[key],
            preprocessors=[metric_types.FeaturePreprocessor(feature_keys=[window_key])],
            combiner=_ForecastErrorsCombiner(key, eval_config, window_key, season),
        )
    ]


class ForecastErrors(metric_types.Metric):
    """One of METRIC_NAMES (its `name`): errors of a horizon forecast, or of a naive one.

    One instance per name, so that TFMA thresholds (keyed by metric name) can gate each.
    Args:
      window_key: raw feature holding the past window of the forecast column.
      season: seasonal-naive period in steps.
    """

    def __init__(self, window_key: str, season: int, name: str = FORECAST_MAE):
        super().__init__(
            metric_util.merge_per_key_computations(_computations), name=name, window_key=window_key, season=season
        )


metric_types.register_metric(ForecastErrors)
