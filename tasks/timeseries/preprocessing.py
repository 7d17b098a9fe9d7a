"""Normalization of the windows, as a tensorflow-transform `preprocessing_fn`.

Each column is standardized with the mean and standard deviation of its values in
the train split (Transform analyzes train only), and its targets with the same
statistics. The statistics are also emitted as (B, 1) features so that the serving
graph can turn normalized forecasts back into the user's units.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from tasks.timeseries import features
from tasks.timeseries.config import SeriesConfig

MIN_STD = 1e-6  # a constant column must not divide by zero


def normalize_windows(inputs: dict, series: SeriesConfig) -> dict:
    outputs = {}
    for column in series.input_columns:
        window = inputs[features.window_key(column)]  # (B, lookback)
        mean = tft.mean(window)
        std = tf.maximum(tf.sqrt(tft.var(window)), MIN_STD)
        outputs[features.transformed_key(features.window_key(column))] = (window - mean) / std
        if column in series.target_columns:
            ones = tf.ones_like(window[:, :1])  # (B, 1)
            outputs[features.mean_key(column)] = ones * mean
            outputs[features.std_key(column)] = ones * std
            future = inputs[features.target_key(column)]  # (B, horizon); absent when serving
            outputs[features.transformed_key(features.target_key(column))] = (future - mean) / std
    return outputs


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """TFX entry point; `custom_config` is `PipelineConfig.to_dict()`."""
    return normalize_windows(inputs, SeriesConfig(**custom_config["series"]))
