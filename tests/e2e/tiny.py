"""The small time-series run the end-to-end tests share: the packaged glucose series, a small budget."""
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
# The whole packaged series (about 6 months at the default stride 9, 70 s with this budget): the
# gate judges on the later half of eval (data/splits.py), and only that much data lets an interval
# show the model better than persistence (+10 % [+4 %, +16 %] with this budget). Slices of 3,000
# rows left 100 gate windows, whose intervals all included 0: nothing would be blessed.
TINY_ROWS = slice(None)


def write_tiny_csv(root: pathlib.Path) -> tuple[str, pd.DataFrame]:
    """(path, frame) of the tiny slice of the packaged default series, under `root`."""
    full = pd.read_csv(timeseries_source.prepare_default_csv(str(root / "source")))
    frame = full.iloc[TINY_ROWS].reset_index(drop=True)
    path = root / "tiny.csv"
    frame.to_csv(path, index=False)
    return str(path), frame
