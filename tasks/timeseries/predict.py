"""Forecast the steps after the last rows of a CSV with the model the Pusher deployed last."""
from __future__ import annotations

import argparse

import pandas as pd
import tensorflow as tf

from components import examples_io
from data.config import PipelineConfig
from serving.serving_model import load_serving_fn
from tasks.timeseries import features, windowing
from tasks.timeseries import source as timeseries_source


def forecast_frame(config: PipelineConfig, csv_path: str, serve) -> pd.DataFrame:
    """Forecast the `horizon` steps after the last row of `csv_path`, one row per step."""
    series = config.series
    frame = windowing.read_series(csv_path, series.time_column)
    if len(frame) < series.lookback:
        raise ValueError(f"{csv_path} has {len(frame)} rows; the model needs the last {series.lookback}")
    recent = frame.iloc[-series.lookback :]
    raw = {
        features.window_key(c): windowing.column_values(recent, c)
        for c in series.input_columns
    }
    outputs = serve(examples=tf.constant([examples_io.to_tf_example(raw).SerializeToString()]))
    step = windowing.infer_frequency(frame[series.time_column], series.frequency)
    last = frame[series.time_column].iloc[-1]
    result = pd.DataFrame({series.time_column: [last + step * (h + 1) for h in range(series.horizon)]})
    for column in series.target_columns:
        result[column] = outputs[features.forecast_output_key(column)].numpy()[0]
    return result


def predict_timeseries(config: PipelineConfig, args: argparse.Namespace) -> None:
    csv_path = timeseries_source.resolve_data(config)
    model_dir, serve = load_serving_fn(config)
    print(f"model: {model_dir}\ndata: {csv_path} (last {config.series.lookback} rows)")
    print(forecast_frame(config, csv_path, serve).to_string(index=False))
