"""The tiny time-series run the end-to-end tests share: two summer months, a small budget."""
from __future__ import annotations

import pathlib

import pandas as pd

from tasks.timeseries import source as timeseries_source

SMALL_BUDGET = [
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=5",
    "trainer.epochs=2",
    "beam.direct_num_workers=1",
]
# Two months of summer 2016, where the series is not a random walk at this horizon:
# on its eval windows the ridge forecaster beats persistence by 4 % and the model can
# win. (On the first 3,000 rows persistence wins and nothing honest would be pushed.)
TINY_ROWS = slice(6000, 9000)


def write_tiny_csv(root: pathlib.Path) -> tuple[str, pd.DataFrame]:
    """(path, frame) of the tiny slice of the packaged default series, under `root`."""
    full = pd.read_csv(timeseries_source.prepare_default_csv(str(root / "source")))
    frame = full.iloc[TINY_ROWS].reset_index(drop=True)
    path = root / "tiny.csv"
    frame.to_csv(path, index=False)
    return str(path), frame
