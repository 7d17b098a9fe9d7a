"""The simple forecasts a candidate must beat, and the errors of any forecast, in numpy.

Challengers, all scored on the same windows as the candidate:

* persistence: every step repeats the last observed value;
* seasonal naive: every step repeats the value one season earlier;
* linear: the ridge forecaster fitted on the train split (`models.linear`); the
  Trainer exports it beside the candidate, so its forecasts arrive as model outputs.

One home for the names and the arithmetic: the TFMA metric (`forecast_metrics`), the
Scorer (`scores`), the benchmark and the tests use these functions.
"""
from __future__ import annotations

import numpy as np

MODEL = "model"
PERSISTENCE = "persistence"
SEASONAL_NAIVE = "seasonal_naive"
LINEAR = "linear"
CHALLENGERS = (PERSISTENCE, SEASONAL_NAIVE, LINEAR)
FORECASTERS = (MODEL, *CHALLENGERS)


def seasonal_naive(window: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Step h repeats the value `season * k` steps earlier, k the smallest that reaches the window.

    `window` is (T,) or (N, T) [or (N, T, C)]; the result is (H,) or (N, H) [(N, H, C)].
    """
    window = np.asarray(window)
    steps = np.arange(horizon)
    back = season * (steps // season + 1)  # (H,)
    time_axis = 0 if window.ndim == 1 else 1
    return np.take(window, window.shape[time_axis] + steps - back, axis=time_axis)


def persistence(window: np.ndarray, horizon: int) -> np.ndarray:
    """(T,) -> (H,), or (N, T[, C]) -> (N, H[, C]): the last value repeated."""
    window = np.asarray(window)
    time_axis = 0 if window.ndim == 1 else 1
    last = np.take(window, [window.shape[time_axis] - 1], axis=time_axis)
    return np.repeat(last, horizon, axis=time_axis)


def naive_forecasts(windows: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    """(N, T, C) windows -> the two naive challengers' (N, H, C) forecasts."""
    return {PERSISTENCE: persistence(windows, horizon), SEASONAL_NAIVE: seasonal_naive(windows, horizon, season)}


class ErrorSums:
    """MAE, RMSE and MAE by step of forecasts given chunk by chunk: the sums they need, (H, C)
    whatever the number of windows, so the Scorer streams a split instead of holding it."""

    def __init__(self):
        self.windows = 0
        self.abs = self.squared = 0.0  # then (H, C) sums over windows

    def add(self, truth: np.ndarray, forecast: np.ndarray) -> ErrorSums:
        """(N, H, C) truth and forecasts of one chunk."""
        diff = np.asarray(truth, np.float64) - np.asarray(forecast, np.float64)
        self.windows += len(diff)
        self.abs, self.squared = self.abs + np.abs(diff).sum(axis=0), self.squared + np.square(diff).sum(axis=0)
        return self

    def errors(self) -> dict[str, float]:
        """MAE and RMSE, each computed per column then averaged over columns."""
        steps = self.windows * self.abs.shape[0]
        return {"mae": float((self.abs.sum(axis=0) / steps).mean()),
                "rmse": float(np.sqrt(self.squared.sum(axis=0) / steps).mean())}  # fmt: skip

    def mae_by_step(self) -> list[float]:
        """MAE of each horizon step (H,), averaged over windows and columns."""
        return [float(v) for v in self.abs.sum(axis=1) / (self.windows * self.abs.shape[1])]


def errors(truth: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    """MAE and RMSE of (N, H, C) forecasts, each computed per column then averaged over columns."""
    return ErrorSums().add(truth, forecast).errors()


def mae_by_step(truth: np.ndarray, forecast: np.ndarray) -> list[float]:
    """(N, H, C) -> MAE of each horizon step (H,), averaged over windows and columns."""
    return ErrorSums().add(truth, forecast).mae_by_step()
