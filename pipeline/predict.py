"""Forecast (or classify) with the model the Pusher deployed last.

    python -m pipeline.predict --task timeseries [--data my.csv]

Loads the newest version under OUTPUT_DIR/<task>/serving/, builds raw tf.Examples
exactly as a serving client would, and prints the predictions in the user's units.
"""
from __future__ import annotations

import argparse
import sys

import pandas as pd
import tensorflow as tf

from data import features
from data.config import PipelineConfig
from pipeline import run_config
from pipeline.serving_model import load_serving_fn
from tasks.decision.predict import predict_decision
from tasks.speech.predict import predict_speech
from tasks.text.predict import predict_text
from tasks.timeseries import source as timeseries_source
from tasks.timeseries import windowing
from tasks.timeseries.example_gen import to_tf_example
from tasks.vision.predict import predict_vision


def forecast_frame(config: PipelineConfig, csv_path: str, serve) -> pd.DataFrame:
    """Forecast the `horizon` steps after the last row of `csv_path`, one row per step."""
    series = config.series
    frame = windowing.read_series(csv_path, series.time_column)
    if len(frame) < series.lookback:
        raise ValueError(f"{csv_path} has {len(frame)} rows; the model needs the last {series.lookback}")
    recent = frame.iloc[-series.lookback :]
    raw = {
        features.window_key(c): {"float_list": windowing.column_values(recent, c).tolist()}
        for c in series.input_columns
    }
    outputs = serve(examples=tf.constant([to_tf_example(raw).SerializeToString()]))
    step = windowing.infer_frequency(frame[series.time_column], series.frequency)
    last = frame[series.time_column].iloc[-1]
    result = pd.DataFrame({series.time_column: [last + step * (h + 1) for h in range(series.horizon)]})
    for column in series.target_columns:
        result[column] = outputs[features.forecast_output_key(column)].numpy()[0]
    return result


def predict_timeseries(config: PipelineConfig, args: argparse.Namespace) -> None:
    csv_path = timeseries_source.resolve_csv(config.data, str(config.task_dir / "data"))
    model_dir, serve = load_serving_fn(config)
    print(f"model: {model_dir}\ndata: {csv_path} (last {config.series.lookback} rows)")
    print(forecast_frame(config, csv_path, serve).to_string(index=False))


PREDICTORS = {"timeseries": predict_timeseries, "text": predict_text, "vision": predict_vision, "speech": predict_speech, "decision": predict_decision}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="timeseries")
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--data", help="CSV whose last rows are the model's input")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--text", help="text to classify (text task)")
    parser.add_argument(
        "--file", action="append", help="text task: a file with one text per line; vision task: an image file; speech task: a WAV file (repeatable)"
    )
    parser.add_argument("--target", type=float, help="decision task: the return the model is asked for")
    parser.add_argument("--seed", type=int, help="decision task: the episode's seed")
    args = parser.parse_args(argv)
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("predict", args.task, args.output_dir, args.config, args.set, data=args.data)
    except (FileNotFoundError, ValueError) as error:
        print(f"predict: {error}", file=sys.stderr)
        return 2
    if config.task not in PREDICTORS:
        raise SystemExit(f"predict does not support task '{config.task}' (known: {sorted(PREDICTORS)})")
    try:
        PREDICTORS[config.task](config, args)
    except (FileNotFoundError, ValueError) as error:
        print(f"predict: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
