"""Turn a time-ordered CSV into forecasting windows, split by time.

Plain pandas/numpy so it can be unit-tested and reused by benchmarks; the
time-series writer (example_gen.py) wraps it for the shared ExampleGen. Rules that keep evaluation honest:

* rows must already be sorted by time; out-of-order or duplicate timestamps are
  errors (reported with the offending rows), never silently reordered;
* missing timestamps (gaps longer than the series frequency) are reported, and no
  window spans a gap;
* the series is split by time into train, eval and test segments first, then each
  segment is windowed on its own, so no window crosses a split boundary; with
  `series.split_context` (the long-horizon benchmarks' protocol) an eval or test
  window's lookback may start in the rows just before its split, its targets never.

Values are kept as they are in the file: a NaN or a non-numeric cell reaches the
examples, where schema validation names the feature and the anomaly.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from data import csv_input
from data.splits import SPLITS, checked_split_column
from tasks.timeseries import features


class SeriesError(ValueError):
    """The CSV cannot be read as one time-ordered series."""


@dataclasses.dataclass
class SeriesReport:
    """What the ExampleGen found in the file, recorded in ML Metadata."""

    rows: int
    frequency: str
    gaps: int  # number of missing-timestamp gaps
    missing_timestamps: int  # timestamps absent inside those gaps
    first_gaps: list[str]  # a few gaps, "after <t>: <delta>"
    split_rows: dict[str, int]
    split_windows: dict[str, int]
    split_ranges: dict[str, list[str]]  # first and last timestamp per split


def read_series(csv_path: str, time_column: str) -> pd.DataFrame:
    """Read the CSV and check time order; values are left untouched (as strings or numbers)."""
    frame = csv_input.read_csv(csv_path)
    if time_column not in frame.columns:
        raise SeriesError(
            f"{csv_path}: time column '{time_column}' not found; columns are {list(frame.columns)}. "
            "Set series.time_column."
        )
    times = pd.to_datetime(frame[time_column], errors="coerce")
    bad = times.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SeriesError(
            f"{csv_path}: {int(bad.sum())} unparseable timestamp(s) in '{time_column}', first at "
            f"data row {row + 1}: {frame[time_column].iloc[row]!r}"
        )
    diffs = times.diff().iloc[1:]
    backwards = np.flatnonzero((diffs < pd.Timedelta(0)).to_numpy())
    if backwards.size:
        row = int(backwards[0]) + 1
        raise SeriesError(
            f"{csv_path}: rows are not sorted by '{time_column}': data row {row + 1} "
            f"({times.iloc[row]}) comes before data row {row} ({times.iloc[row - 1]}). "
            f"{backwards.size} such place(s). Sort the file by time; the pipeline does not reorder rows."
        )
    duplicated = times[times.duplicated(keep=False)]
    if len(duplicated):
        raise SeriesError(
            f"{csv_path}: {times.duplicated().sum()} duplicate timestamp(s) in '{time_column}', "
            f"first {duplicated.iloc[0]} at data rows {[int(i) + 1 for i in duplicated.index[:4]]}. "
            "Aggregate or remove duplicates before running the pipeline."
        )
    frame[time_column] = times
    return frame


def infer_frequency(times: pd.Series, frequency: str | None) -> pd.Timedelta:
    """The series step: the configured one, or the most common time difference."""
    if frequency:
        return pd.Timedelta(pd.tseries.frequencies.to_offset(frequency))
    diffs = times.diff().dropna()
    if diffs.empty:
        raise SeriesError("the series has fewer than two rows")
    return diffs.mode().iloc[0]


def segment_ids(times: pd.Series, step: pd.Timedelta) -> np.ndarray:
    """Consecutive rows share an id until a gap (a time difference larger than `step`)."""
    gaps = (times.diff() > step).to_numpy()
    return np.cumsum(gaps)  # (N,)


def split_bounds(rows: int, fractions: list[float]) -> dict[str, tuple[int, int]]:
    """Row ranges [start, end) of train, eval and test, in time order."""
    ends = np.round(np.cumsum(fractions) * rows).astype(int)
    ends[-1] = rows
    return _bounds(ends)


def naive_utc(times: pd.Series) -> pd.Series:
    """Zoned times in UTC without the zone; naive ones as they are."""
    return times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz is not None else times


def split_bounds_by_date(times: pd.Series, dates: list[str]) -> dict[str, tuple[int, int]]:
    """Row ranges where eval starts at the first row at or after `dates[0]`, test at `dates[1]`;
    a third date ends the test split (rows from it on are not used).

    Time-zone-aware times and dates are compared in UTC; naive ones as they are.
    """

    def naive_utc_stamp(value):
        return value.tz_convert("UTC").tz_localize(None) if value.tzinfo is not None else value

    values = naive_utc(times)
    cuts = [naive_utc_stamp(pd.Timestamp(d)) for d in dates]
    ends = np.searchsorted(values.to_numpy(), np.array(cuts, dtype="datetime64[ns]"))
    if len(dates) == 2:
        ends = np.append(ends, len(times))
    return _bounds(ends)


def split_bounds_by_column(frame: pd.DataFrame, column: str) -> dict[str, tuple[int, int]]:
    """Row ranges from the series' own split column: train rows, then eval, then test, each a
    contiguous block in time order; anything else is an error naming the row."""
    if column not in frame.columns:
        raise SeriesError(f"split column '{column}' not found; columns are {list(frame.columns)}")
    values = checked_split_column(frame[column], column)
    order = np.array([SPLITS.index(v) for v in values])
    backwards = np.flatnonzero(np.diff(order) < 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise SeriesError(
            f"split column '{column}': data row {row + 1} is '{values[row]}' after '{values[row - 1]}'; "
            "a series is split by time: every train row, then every eval row, then every test row"
        )
    missing = [name for i, name in enumerate(SPLITS) if i not in set(order)]
    if missing:
        raise SeriesError(f"split column '{column}' has no {missing} rows")
    return _bounds(np.array([int((order <= i).sum()) for i in range(len(SPLITS))]))


def _bounds(ends: np.ndarray) -> dict[str, tuple[int, int]]:
    starts = np.concatenate([[0], ends[:-1]])
    return {name: (int(s), int(e)) for name, s, e in zip(SPLITS, starts, ends, strict=True)}


def window_starts(segments: np.ndarray, lookback: int, horizon: int, stride: int) -> np.ndarray:
    """Starts of the windows [s, s + lookback + horizon) that lie inside one gap-free segment."""
    span = lookback + horizon
    if len(segments) < span:
        return np.zeros((0,), dtype=np.int64)
    starts = np.arange(0, len(segments) - span + 1, stride)
    same_segment = segments[starts] == segments[starts + span - 1]  # ids only grow
    return starts[same_segment]


def column_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Numeric column as float32 (NaN kept); a column with text stays as strings."""
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float32)
    return values.astype(str).to_numpy()


def _feature(values: np.ndarray) -> np.ndarray | list[str]:
    """A window's values as `components.examples_io.to_tf_example` writes them: floats, or strings."""
    if values.dtype.kind == "f":
        return values
    return [str(v) for v in values]


def iter_windows(
    frame: pd.DataFrame,
    starts: np.ndarray,
    input_columns: list[str],
    target_columns: list[str],
    lookback: int,
    horizon: int,
) -> Iterator[dict]:
    """One dict per window: raw feature key -> its values (float32, or strings for a text column)."""
    columns = {c: column_values(frame, c) for c in dict.fromkeys(input_columns + target_columns) if c in frame}
    for start in starts:
        example = {}
        for column in input_columns:
            if column in columns:
                example[features.window_key(column)] = _feature(columns[column][start : start + lookback])
        for column in target_columns:
            if column in columns:
                future = columns[column][start + lookback : start + lookback + horizon]
                example[features.target_key(column)] = _feature(future)
        yield example


def plan_windows(frame: pd.DataFrame, series) -> tuple[dict[str, tuple[pd.DataFrame, np.ndarray]], SeriesReport]:
    """Split `frame` by time and find each split's window starts. `series`: a SeriesConfig."""
    wanted = list(dict.fromkeys(series.input_columns + series.target_columns))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SeriesError(
            f"the file has no column(s) {missing} (columns: {list(frame.columns)}): set "
            "series.input_columns / series.target_columns in the config"
        )
    times = frame[series.time_column]
    step = infer_frequency(times, series.frequency)
    segments = segment_ids(times, step)
    gap_rows = np.flatnonzero((times.diff() > step).to_numpy())
    missing = int(sum((times.iloc[i] - times.iloc[i - 1]) / step - 1 for i in gap_rows))
    plan, split_rows, split_windows, split_ranges = {}, {}, {}, {}
    if series.split_column:
        bounds = split_bounds_by_column(frame, series.split_column)
    elif series.split_dates:
        bounds = split_bounds_by_date(times, series.split_dates)
    else:
        bounds = split_bounds(len(frame), series.split_fractions)
    for name, (lo, hi) in bounds.items():
        # With split_context, a window's lookback may start in the rows before the split
        # (the standard long-horizon protocol); its targets always lie inside the split.
        context = min(lo, series.lookback) if series.split_context else 0
        part = frame.iloc[lo - context : hi].reset_index(drop=True)
        starts = window_starts(segments[lo - context : hi], series.lookback, series.horizon, series.stride)
        if starts.size == 0:
            raise SeriesError(
                f"split '{name}' has {hi - lo} rows: too few for one window of lookback "
                f"{series.lookback} + horizon {series.horizon}. Use more data or shorter windows."
            )
        plan[name] = (part, starts)
        split_rows[name] = hi - lo
        split_windows[name] = int(starts.size)
        split_ranges[name] = [str(part[series.time_column].iloc[context]), str(part[series.time_column].iloc[-1])]
    report = SeriesReport(
        rows=len(frame),
        frequency=str(step),
        gaps=int(gap_rows.size),
        missing_timestamps=missing,
        first_gaps=[f"after {times.iloc[i - 1]}: {times.iloc[i] - times.iloc[i - 1]}" for i in gap_rows[:5]],
        split_rows=split_rows,
        split_windows=split_windows,
        split_ranges=split_ranges,
    )
    return plan, report
