"""Forecast scores of a candidate and every challenger, per split, in the user's units.

The Scorer's function for the time-series task: reads the raw windows of the eval and
test splits, runs the candidate's `evaluation` signature (its forecasts and the linear
challenger's), forms the naive challengers from the windows, and scores them all with
`challengers.errors`. Scores are averaged over target columns; `mae_by_step` keeps
the error of each horizon step, for the report.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from components import examples_io, export
from tasks.timeseries import challengers, features
from tasks.timeseries.config import SeriesConfig

SPLITS = ("eval", "test")


def read_split(examples_uri: str, split: str, series: SeriesConfig) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """(serialized examples, windows (N, T, C), truth (N, H, C)) of the target columns."""
    return read_split_records(examples_io.read_split(examples_uri, split), series)


def read_split_records(records: list[bytes], series) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """(records, windows (N, T, C), truth (N, H, C)) of the target columns (`series` needs
    target_columns, lookback and horizon)."""
    spec = {}
    for column in series.target_columns:
        spec[features.window_key(column)] = tf.io.FixedLenFeature([series.lookback], tf.float32)
        spec[features.target_key(column)] = tf.io.FixedLenFeature([series.horizon], tf.float32)
    parsed = tf.io.parse_example(tf.constant(records), spec)
    windows = np.stack([parsed[features.window_key(c)].numpy() for c in series.target_columns], axis=-1)
    truth = np.stack([parsed[features.target_key(c)].numpy() for c in series.target_columns], axis=-1)
    return records, windows, truth


def model_forecasts(signature, records: list[bytes], columns: list[str]) -> dict[str, np.ndarray]:
    """The evaluation signature's forecasts: {"model": (N, H, C), "linear": (N, H, C)}."""
    return forecasts_in(export.call_in_batches(signature, records), columns)


def forecasts_in(outputs: dict, columns: list[str]) -> dict[str, np.ndarray]:
    """{"model", "linear": (N, H, C)} from the evaluation signature's outputs; a forecaster whose
    outputs are missing is left out (the gate then fails closed on it)."""
    keys = {
        challengers.MODEL: [features.forecast_output_key(c) for c in columns],
        challengers.LINEAR: [features.challenger_output_key(challengers.LINEAR, c) for c in columns],
    }
    return {name: np.stack([outputs[k] for k in names], axis=-1) for name, names in keys.items() if all(k in outputs for k in names)}


def forecasts_of_split(signature, examples_uri: str, split: str, series: SeriesConfig):
    """(windows, truth, {forecaster: (N, H, C)}) of one split."""
    records, windows, truth = read_split(examples_uri, split, series)
    forecasts = model_forecasts(signature, records, series.target_columns)
    forecasts.update(challengers.naive_forecasts(windows, series.horizon, series.season))
    return windows, truth, forecasts


CHUNK = 2048  # windows scored at a time: the Scorer's memory is a chunk's, whatever the split's size


def score(model_dir: str, examples_uri: str, config: dict) -> dict:
    """{split: {forecaster: {"mae", "rmse"}}, "mae_by_step": {split: {forecaster: [H]}}, "windows": {split: N}}."""
    series = SeriesConfig(**config["series"])
    signature = tf.saved_model.load(model_dir).signatures[export.EVALUATION_SIGNATURE]
    result: dict = {"mae_by_step": {}, "windows": {}}
    for split in SPLITS:
        sums = {name: challengers.ErrorSums() for name in challengers.FORECASTERS}
        for records in examples_io.iter_split(examples_uri, split, CHUNK):
            _, windows, truth = read_split_records(records, series)
            forecasts = model_forecasts(signature, records, series.target_columns)
            forecasts.update(challengers.naive_forecasts(windows, series.horizon, series.season))
            for name, total in sums.items():
                total.add(truth, forecasts[name])
        result[split] = {name: total.errors() for name, total in sums.items()}
        result["mae_by_step"][split] = {name: total.mae_by_step() for name, total in sums.items()}
        result["windows"][split] = sums[challengers.MODEL].windows
    return result
