"""`make simulate TASK=timeseries`: the series cut into daily spans, a drift, a corrupt day, and the
served model's error on each day's actual values (pipeline/simulate.py runs the schedule).

- The history (everything before the simulated days) arrives as span 0, then one span a day.
  Days are cut at the first reading after midnight that follows the previous one by exactly one
  step, so that no boundary falls in a sensor gap (a gap between spans is an error,
  tasks/timeseries/spans.py); gaps inside a day stay, as in the data.
- Drift (`DRIFT_DAY=k`): from day k on the sensor reads one standard deviation of the history
  high (53 mg/dL on the packaged series), a calibration offset, clipped to the monitor's
  reporting range (40 to 400 mg/dL), as the monitor clips. One standard deviation is the shift
  the serving monitor is meant to catch (docs/serving.md); 20 mg/dL changes a day's histogram
  less than one normal day differs from the next.
- A corrupt day (`BREAK_DAY=k`): the sensor wrote 0 for every reading of day k, outside the
  schema's 40 to 400: validation stops that run. The next day the corrected span arrives as a
  new version of span k (`{VERSION}`), as a data team would re-deliver it.
- Requests and live error: the model served after day k forecasts day k+1 hour by hour (windows
  of the series' lookback whose horizon lies in day k+1, one every `horizon` steps, as a client
  would ask); these are the day's requests, which the simulation logs and monitors. Its MAE and
  persistence's on the same values fill day k's row when day k+1's span arrives.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from components import examples_io
from components.export import EXAMPLES_INPUT
from data.config import PipelineConfig
from tasks.timeseries import challengers, features, windowing

SPAN_FILE = "series-{SPAN}-v{VERSION}.csv"  # under the simulation's data folder
DRIFT_STDS = 1.0  # from DRIFT_DAY on the sensor reads this many standard deviations of the history high
LOW, HIGH = 40.0, 400.0  # what the monitor reports (its schema's float_domain)
DRIFT_NOTE = f"the sensor reads {DRIFT_STDS:g} standard deviation of the history high (clipped to {LOW:g}-{HIGH:g})"
ERROR_KEYS = ("served_mae", "persistence_mae")  # the live errors a day's row holds


def read(config: PipelineConfig, source: str) -> pd.DataFrame:
    return windowing.read_series(source, config.series.time_column)


def cut_days(config: PipelineConfig, frame: pd.DataFrame, days: int) -> list[pd.DataFrame]:
    """[history, day 1, ..., day `days`]: the last `days` whole days as spans, the rest as history."""
    times = frame[config.series.time_column]
    step = windowing.infer_frequency(times, config.series.frequency)
    continuous = (times.diff() == step).to_numpy()  # (N,)
    dates = times.dt.normalize().to_numpy()
    cuts = []
    for first in np.flatnonzero(dates[1:] != dates[:-1]) + 1:  # the first reading of each new date
        following = np.flatnonzero(continuous[first:] & (dates[first:] == dates[first]))
        if following.size:
            cuts.append(first + int(following[0]))
    if len(cuts) < days + 1:
        raise ValueError(f"the series has {len(cuts)} day boundaries; {days} simulated days need {days + 1}")
    bounds = [0, *cuts[-(days + 1) :], len(frame)]  # the last day boundary ends the last simulated day
    parts = [frame.iloc[lo:hi].reset_index(drop=True) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    return parts[:-1]  # the incomplete day after the last boundary is not delivered


def drifted(config: PipelineConfig, day: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    out = day.copy()
    for column in config.series.input_columns:
        offset = DRIFT_STDS * float(pd.to_numeric(history[column], errors="coerce").std())
        out[column] = np.clip(pd.to_numeric(out[column]) + offset, LOW, HIGH)
    return out


def corrupted(config: PipelineConfig, day: pd.DataFrame) -> pd.DataFrame:
    out = day.copy()
    for column in config.series.input_columns:
        out[column] = 0.0
    return out


def write(config: PipelineConfig, frame: pd.DataFrame, path: str) -> None:
    frame.to_csv(path, index=False)


def answer(config: PipelineConfig, model_dir: str, before: pd.DataFrame, day: pd.DataFrame) -> tuple[dict, dict, dict]:
    """The day's requests answered by the model in `model_dir`: (request, outputs, errors).

    The request is what a client sends to `serving_default` (`examples`: one serialized window
    per hour of `day`, forecast from the rows before it, `before` then `day`; windows across a
    gap are left out), the outputs what the model answered, as arrays, and the errors
    {served_mae, persistence_mae} on `day`'s values."""
    series = config.series
    frame = pd.concat([before.iloc[-series.lookback :], day], ignore_index=True)
    times = frame[series.time_column]
    step = windowing.infer_frequency(times, series.frequency)
    segments = windowing.segment_ids(times, step)
    starts = windowing.window_starts(segments, series.lookback, series.horizon, series.horizon)
    starts = starts[starts + series.lookback >= min(series.lookback, len(before))]  # targets inside `day`
    if starts.size == 0:
        return {}, {}, {key: None for key in ERROR_KEYS}
    windows = list(windowing.iter_windows(frame, starts, series.input_columns, series.target_columns,
                                          series.lookback, series.horizon))  # fmt: skip
    served_keys = {features.window_key(c) for c in series.input_columns}  # what serving reads: no targets
    records = [examples_io.to_tf_example({k: v for k, v in w.items() if k in served_keys}).SerializeToString() for w in windows]
    request = {EXAMPLES_INPUT: tf.constant(records)}  # (W,) serialized tf.Examples
    outputs = {name: value.numpy() for name, value in tf.saved_model.load(model_dir).signatures["serving_default"](**request).items()}
    targets = series.target_columns
    truth = np.stack([[w[features.target_key(c)] for c in targets] for w in windows]).transpose(0, 2, 1)  # (W, H, C)
    history = np.stack([[w[features.window_key(c)] for c in targets] for w in windows]).transpose(0, 2, 1)  # (W, T, C)
    forecast = np.stack([outputs[features.forecast_output_key(c)] for c in targets], axis=-1)  # (W, H, C)
    errors = {"served_mae": challengers.errors(truth, forecast)["mae"],
              "persistence_mae": challengers.errors(truth, challengers.persistence(history, series.horizon))["mae"]}  # fmt: skip
    return request, outputs, errors
