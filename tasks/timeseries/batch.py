"""Batch predictions of a series (`make predict-batch`): every window of a CSV, forecast by the pushed model.

An input is the `lookback` rows ending at a row, keyed by that row's time: the forecast is
for the `horizon` steps after it. Windows are built as `forecast_frame` (predict.py) builds
the last one, the same rows, the same float32 values, the same raw tf.Example, so that with
LAST=1 the batch's one row is `make predict`'s forecast. A window with a missing (NaN) or
non-numeric value is not sent to the model: it goes to the errors file with the time of the
first bad value. Unlike the ExampleGen, a window may span a gap in the timestamps, as
`make predict`'s may: the forecast is then only as good as the model is on such input.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from components import examples_io
from components.batch_inference import to_python
from data.config import PipelineConfig
from tasks.timeseries import features, windowing


def _numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float32 values, where a value is not a number): a text column is parsed cell by cell."""
    if values.dtype.kind == "f":
        return values, np.zeros(values.shape, dtype=bool)
    parsed = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float32)
    return parsed, np.isnan(parsed) & ~pd.Series(values).str.strip().str.lower().isin(["", "nan"]).to_numpy()


def inputs(config: PipelineConfig, data: str, last: bool = False) -> Iterator[tuple]:
    """(time of the window's last row, raw tf.Example bytes) per window, or (time, None, why not);
    `last`: only the last window, `make predict`'s."""
    series = config.series
    frame = windowing.read_series(data, series.time_column)  # an unsorted or duplicated time stops the job
    missing = [c for c in series.input_columns if c not in frame.columns]
    if missing:
        raise windowing.SeriesError(f"{data} has no column(s) {missing} (columns: {list(frame.columns)})")
    if len(frame) < series.lookback:
        raise ValueError(f"{data} has {len(frame)} rows; the model needs windows of {series.lookback}")
    times = frame[series.time_column].astype(str).to_numpy()
    values, unparsed = {}, {}
    for column in series.input_columns:
        values[column], unparsed[column] = _numbers(windowing.column_values(frame, column))  # (N,) each
    ends = [len(frame)] if last else range(series.lookback, len(frame) + 1)
    for end in ends:
        start = end - series.lookback
        reason = _problem(values, unparsed, times, start, end)
        if reason:
            yield times[end - 1], None, reason
            continue
        raw = {features.window_key(c): values[c][start:end] for c in series.input_columns}
        yield times[end - 1], examples_io.to_tf_example(raw).SerializeToString()


def _problem(values: dict, unparsed: dict, times: np.ndarray, start: int, end: int) -> str | None:
    for column in values:
        bad = np.flatnonzero(unparsed[column][start:end])
        if bad.size:
            return f"{column}: not a number at {times[start + bad[0]]}"
        missing = np.flatnonzero(np.isnan(values[column][start:end]))
        if missing.size:
            return f"{column}: missing value at {times[start + missing[0]]}"
    return None


def columns(config: PipelineConfig, outputs: dict) -> dict:
    """`forecast_<target>`: the `horizon` values after the key's time (CSV: `forecast_<target>_1..h`)."""
    return {key: to_python(outputs[key]) for key in map(features.forecast_output_key, config.series.target_columns)}
