"""Live accuracy of the served forecasts, once the readings they forecast have arrived
(`make monitor TRUTH=series.csv`; the shared part is serving/live_accuracy.py).

The key: a request's key is the time of its window's last input reading, the time `make
predict-batch` keys each window by (batch.py), in any form pandas parses ("2024-05-01 13:05:00",
ISO 8601 with or without a zone; zoned times are compared in UTC). A client of `make serve` sends
it as the instance's `key` field. A request without a key (the log gave it a uuid) or whose key
is not a time cannot be joined: it is counted as without a usable key.

The truth: the series CSV as new readings arrive (the training data's columns; read and checked
by windowing.read_series). A request's actual values are the `horizon` readings after its key's
time, one series step apart (`series.frequency`, else the file's most common step), every one
present and a number; until then its truth is not known yet.

The losses, each the mean absolute error over the horizon and the target columns, per request:
- deployed: the logged forecast, `__output__forecast_<target>` (what the user got);
- persistence and seasonal naive: from the logged window itself (challengers.py);
- linear: the deployed model's `evaluation` signature (components/export.py) fed the request's
  logged raw features, its `linear_<target>` output (when the model exports one).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from components.export import EVALUATION_SIGNATURE, call_in_batches
from data.config import PipelineConfig
from serving import live_accuracy, request_log
from tasks.timeseries import challengers, features, windowing

LOSS = "MAE"


def key_times(requests: list) -> pd.Series:
    """(N,) each request's key as a naive UTC time, NaT where it is not a time."""
    parsed = [pd.to_datetime(request_log.key_of(e) or "", errors="coerce", utc=True) for e in requests]
    return pd.Series(parsed, dtype="datetime64[ns, UTC]").dt.tz_localize(None)


def logged_floats(example, name: str, size: int, what: str) -> np.ndarray:
    values = np.asarray(example.features.feature[name].float_list.value, np.float64)  # (size,)
    if values.size != size:
        raise ValueError(f"a logged request has {values.size} values of {what} '{name}', the config says {size}: "
                         "is CONFIG the deployed model's?")  # fmt: skip
    return values


def truth_values(config: PipelineConfig, truth_path: str) -> tuple[pd.Index, dict[str, np.ndarray], pd.Timedelta]:
    """(the truth's times, naive UTC; each target's readings (M,) as floats, NaN where not a number; the step)."""
    series = config.series
    frame = windowing.read_series(truth_path, series.time_column)
    missing = [c for c in series.target_columns if c not in frame.columns]
    if missing:
        raise windowing.SeriesError(f"{truth_path} has no column(s) {missing} (columns: {list(frame.columns)})")
    step = windowing.infer_frequency(frame[series.time_column], series.frequency)
    values = {c: pd.to_numeric(pd.Series(windowing.column_values(frame, c)), errors="coerce").to_numpy(np.float64)
              for c in series.target_columns}  # fmt: skip
    return pd.Index(windowing.naive_utc(frame[series.time_column])), values, step


def live_truth(config: PipelineConfig, truth_path: str, requests: list, model_dir: str) -> live_accuracy.Joined:
    """Each request joined to the readings after its key's time (see the module docstring)."""
    series = config.series
    targets, horizon = series.target_columns, series.horizon
    times, values, step = truth_values(config, truth_path)
    keys = key_times(requests)  # (N,)
    usable = keys.notna().to_numpy()  # (N,)
    after = keys.to_numpy()[:, None] + step * np.arange(1, horizon + 1)[None, :]  # (N, H) datetime64
    rows = times.get_indexer(pd.DatetimeIndex(after.reshape(-1))).reshape(after.shape)  # (N, H), -1 where absent
    actual = np.stack([np.where(rows >= 0, values[c][rows], np.nan) for c in targets], axis=-1)  # (N, H, C)
    known = usable & np.isfinite(actual).all(axis=(1, 2))  # (N,)
    status = [live_accuracy.JOINED if k else live_accuracy.UNKNOWN if u else live_accuracy.NO_KEY
              for k, u in zip(known, usable, strict=True)]  # fmt: skip

    forecasts = {live_accuracy.DEPLOYED: np.stack([
        [logged_floats(e, request_log.OUTPUT_PREFIX + features.forecast_output_key(c), horizon, "forecast")
         for c in targets] for e in requests], axis=0).transpose(0, 2, 1) if requests else np.zeros((0, horizon, len(targets)))}  # (N, H, C)  # fmt: skip
    windows = np.stack([[logged_floats(e, features.window_key(c), series.lookback, "input window") for c in targets]
                        for e in requests], axis=0).transpose(0, 2, 1) if requests else np.zeros((0, series.lookback, len(targets)))  # (N, T, C)  # fmt: skip
    forecasts.update(challengers.naive_forecasts(windows, horizon, series.season))
    notes = key_notes(keys, times, values, windows, targets, known) + gap_notes(after, times, usable & ~known)
    linear, why_not = linear_forecasts(model_dir, requests, known, targets)
    if linear is not None:
        forecasts[challengers.LINEAR] = linear
    else:
        notes.append(f"{challengers.LINEAR}: left out: {why_not}")
    losses = {}
    for name, forecast in forecasts.items():
        loss = np.abs(forecast - actual).mean(axis=(1, 2))  # (N,)
        losses[name] = np.where(known, loss, np.nan)
    return live_accuracy.Joined(status, losses, loss=LOSS, block=horizon, notes=notes)


def linear_forecasts(model_dir: str, requests: list, known: np.ndarray, targets: list[str]) -> tuple[np.ndarray | None, str]:
    """(N, H, C) the linear challenger's forecasts of the joined requests (NaN elsewhere), or (None, why not)."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(model_dir)
    except Exception as error:  # noqa: BLE001  (a model that cannot be read leaves this challenger out, not the check)
        return None, f"cannot load the deployed model {model_dir}: {error}"
    signature = loaded.signatures.get(EVALUATION_SIGNATURE)
    if signature is None:
        return None, f"the deployed model has no '{EVALUATION_SIGNATURE}' signature"
    names = [features.challenger_output_key(challengers.LINEAR, c) for c in targets]
    absent = [n for n in names if n not in signature.structured_outputs]
    if absent:
        return None, f"the deployed model's '{EVALUATION_SIGNATURE}' signature has no output {absent}"
    rows = np.flatnonzero(known)
    if not rows.size:
        return None, "no joined request"
    records = [request_log.raw_features(requests[i]).SerializeToString() for i in rows]
    outputs = call_in_batches(signature, records)
    forecast = np.full((len(requests), *np.asarray(outputs[names[0]]).shape[1:], len(targets)), np.nan)  # (N, H, C)
    forecast[rows] = np.stack([outputs[n] for n in names], axis=-1)
    return forecast, ""


def gap_notes(after: np.ndarray, times: pd.Index, unknown: np.ndarray) -> list[str]:
    """A note on the unknown requests whose readings should be in the file already (their horizon
    ends before its last reading): a gap in the series, or a value that is not a number; their
    truth is missing rather than late, and a later file joins them only if it fills the gap."""
    if not unknown.any() or not len(times):
        return []
    missing = int((unknown & (after[:, -1] <= np.datetime64(times.max()))).sum())
    if not missing:
        return []
    return [f"{missing} of the requests whose truth is not known yet forecast readings before the truth's last one "
            f"({times.max()}): the file has a gap (or a value that is not a number) there"]  # fmt: skip


def key_notes(keys: pd.Series, times: pd.Index, values: dict, windows: np.ndarray, targets: list[str],
              known: np.ndarray) -> list[str]:  # fmt: skip
    """A warning when joined requests' last logged reading is not the truth's reading at their
    key's time: their keys are probably not the time of their window's last reading."""
    rows = times.get_indexer(pd.DatetimeIndex(keys))  # (N,)
    check = known & (rows >= 0)
    if not check.any():
        return []
    truth = np.stack([values[c][rows[check]] for c in targets], axis=-1)  # (n, C)
    differ = int((~np.isclose(windows[check, -1, :], truth, rtol=1e-4, atol=1e-4)).any(axis=1).sum())
    if not differ:
        return []
    return [f"{differ} of {int(check.sum())} joined requests' last window reading differs from the truth at their key's "
            "time: is each key the time of its window's last reading?"]  # fmt: skip
