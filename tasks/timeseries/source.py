"""Where time-series data comes from: the package-shipped default, or the user's CSV.

The default is a real sensor series: a continuous glucose monitor's readings (mg/dL)
every 5 minutes from 2010-03-24 to 2010-10-10 (52,281 rows), shipped gzipped inside
`bokeh_sampledata` (BSD-3). Nothing is downloaded. `prepare_default_csv` turns it into
the raw form a user has (a `time` column and a `glucose` column; the sensor's raw
current `isig`, with 'nil' cells, is left out) under OUTPUT_DIR.

One clean-up, said when it is done: readings less than half a step after the previous
one (3 duplicated timestamps, and 194 readings 1 minute after another, where the sensor
briefly reported twice per 5 minutes) are averaged into that one. The pipeline refuses
duplicates, and counts rows, not minutes: left in, the double readings would make a
window of 12 rows span 30 minutes instead of 60.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from data import sources
from data.packages import package_file

SOURCE_FILE = "_data/CGM.csv.gz"
SOURCE_COLUMNS = {"datetime": "time", "glucose": "glucose"}
DEFAULT_NAME = "glucose.csv"
STEP = pd.Timedelta("5min")  # the monitor's reading interval


def source_path() -> pathlib.Path:
    return package_file("bokeh_sampledata", SOURCE_FILE)


def merge_close_readings(frame: pd.DataFrame, within: pd.Timedelta) -> pd.DataFrame:
    """Average each reading less than `within` after the previous one into it (first timestamp kept).

    `frame` is time-sorted with columns `time` (text) and one value column.
    """
    times = pd.to_datetime(frame["time"])
    group = np.cumsum((times.diff() >= within).to_numpy())  # (N,); NaT (row 0) is False: group 0
    value = [c for c in frame.columns if c != "time"]
    merged = frame.groupby(group, sort=False).agg({"time": "first", **{c: "mean" for c in value}})
    return merged.reset_index(drop=True)


def prepare_default_csv(directory: str) -> str:
    """Write the default series as a plain CSV under `directory` (same bytes every time)."""
    frame = pd.read_csv(source_path(), usecols=list(SOURCE_COLUMNS)).rename(columns=SOURCE_COLUMNS)
    frame = frame[list(SOURCE_COLUMNS.values())]
    merged = merge_close_readings(frame, STEP / 2)
    path = pathlib.Path(directory) / DEFAULT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.to_csv(path, index=False)
    if len(merged) < len(frame):
        print(
            f"default data: averaged {len(frame) - len(merged)} reading(s) of {source_path().name} taken "
            f"less than {(STEP / 2).total_seconds() / 60:g} minutes after the previous one into it"
        )
    return str(path)


def resolve_data(config) -> str:
    """The CSV to use (DATA), or the prepared default under OUTPUT_DIR/timeseries/data."""
    return sources.resolve(config.data, str(config.task_dir / "data"), prepare_default_csv, "a CSV with a time column")
