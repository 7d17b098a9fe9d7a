"""Small synthetic series for unit tests (synthetic data only lives in tests)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.timeseries.config import SeriesConfig

COLUMN = "temperature"  # the synthetic series' column (the shipped default's is another)


def series_frame(rows: int = 200, freq: str = "30min", seed: int = 0) -> pd.DataFrame:
    """A daily-cycle temperature-like series with noise: columns `time`, `temperature`."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    values = 10 + 2 * np.sin(2 * np.pi * steps / 48) + rng.normal(0, 0.1, rows)
    times = pd.date_range("2020-01-01", periods=rows, freq=freq)
    return pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%S"), COLUMN: values})


def small_series_config(**overrides) -> SeriesConfig:
    values = dict(input_columns=[COLUMN], target_columns=[COLUMN], lookback=8, horizon=4, stride=1, season=4,
                  split_fractions=[0.6, 0.2, 0.2])
    values.update(overrides)
    return SeriesConfig(**values)
