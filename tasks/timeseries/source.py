"""Where time-series data comes from: the package-shipped default, or the user's CSV.

The default is a real sensor series: sea surface temperature (degrees Celsius) every
30 minutes from 2016-02-15 to 2017-03-22 (19,226 readings), shipped gzipped inside
`bokeh_sampledata` (BSD-3). Nothing is downloaded. `prepare_default_csv` turns it
into the raw form a user has (a `time` column and a `temperature` column) under
OUTPUT_DIR; the one duplicated timestamp in the source is averaged there, and said
so, because the pipeline itself refuses duplicates.
"""
from __future__ import annotations

import pathlib

import pandas as pd

from data import sources
from data.packages import package_file

SOURCE_FILE = "_data/sea_surface_temperature.csv.gz"
SOURCE_COLUMNS = {"time (UTC)": "time", "temperature (celsius)": "temperature"}
DEFAULT_NAME = "sea_surface_temperature.csv"


def source_path() -> pathlib.Path:
    return package_file("bokeh_sampledata", SOURCE_FILE)


def prepare_default_csv(directory: str) -> str:
    """Write the default series as a plain CSV under `directory` (same bytes every time)."""
    frame = pd.read_csv(source_path()).rename(columns=SOURCE_COLUMNS)
    duplicates = int(frame["time"].duplicated().sum())
    frame = frame.groupby("time", as_index=False, sort=False)["temperature"].mean()
    path = pathlib.Path(directory) / DEFAULT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    if duplicates:
        print(f"default data: averaged {duplicates} duplicated timestamp(s) of {source_path().name}")
    return str(path)


def resolve_data(config) -> str:
    """The CSV to use (DATA), or the prepared default under OUTPUT_DIR/timeseries/data."""
    return sources.resolve(config.data, str(config.task_dir / "data"), prepare_default_csv, "a CSV with a time column")
