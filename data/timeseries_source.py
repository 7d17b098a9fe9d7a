"""Where time-series data comes from: the package-shipped default, or the user's CSV.

The default is hourly air temperature in Seattle for 2010 (8,759 readings), shipped
as a CSV by `vega_datasets` (MIT). It is already in the raw form a user has: a time
column (`date`) and a value column (`temp`, degrees Fahrenheit), so the pipeline
reads the file as it is installed; nothing is downloaded.
"""
from __future__ import annotations

import pathlib

import vega_datasets

DEFAULT_CSV = pathlib.Path(vega_datasets.__file__).parent / "_data" / "seattle-temps.csv"


def resolve_csv(path: str | None) -> str:
    """Absolute path of the CSV to use; the packaged default when `path` is None."""
    csv = pathlib.Path(path) if path else DEFAULT_CSV
    if not csv.is_file():
        raise FileNotFoundError(f"time-series CSV not found: {csv}")
    return str(csv.resolve())
