"""Time-series task: forecast quality on the test split, and where the pipeline's time goes.

Runs `make run-local`'s pipeline (default data and config) in a fresh OUTPUT_DIR
under bench/results/, so the wall time includes every component (no cache). Then,
on the same held-out test windows (never used for training, tuning or blessing):

* model: the pushed model (or, when nothing was pushed, the run's candidate) on raw tf.Examples;
* persistence and seasonal naive: read from each window;
* linear: the ridge challenger fitted on the train split by the Trainer, from the same SavedModel;
* LSTM: `models.baselines` trained here on the same normalized train windows, early-stopped on eval.

Speed: per-component seconds from ML Metadata, the Trainer's throughput (train windows/s)
and its achieved GFLOP/s as a fraction of a `tf.matmul` peak measured in this run.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from bench import pipeline_stats
from components import export
from models.baselines import build_rnn_forecaster
from pipeline.config import load_config
from tasks.timeseries import challengers
from tasks.timeseries import scores as forecast_scores

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")


def lstm_forecast(train, evaluation, test_windows, config) -> tuple[np.ndarray, float]:
    """`train`, `evaluation`: (windows (N, T, 1), targets (N, H, 1)) of the one target column;
    returns the (N, H, 1) forecast of `test_windows` and the training seconds."""
    mean, std = train[0].mean(), train[0].std()
    norm = lambda a: (a - mean) / std  # noqa: E731  (N, T, 1)
    keras.utils.set_random_seed(config.seed)
    model = build_rnn_forecaster("lstm", config.series.lookback, 1, config.series.horizon, 1)
    model.compile(optimizer="adam", loss="mse")
    started = time.perf_counter()
    model.fit(
        norm(train[0]), norm(train[1]), validation_data=(norm(evaluation[0]), norm(evaluation[1])),
        epochs=config.trainer.epochs, batch_size=config.trainer.batch_size, verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=config.trainer.patience, restore_best_weights=True)],
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return model.predict(norm(test_windows), verbose=0) * std + mean, seconds


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        tf.matmul(a, b).numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - started) / 1e9


def forward_flops_per_window(config, hyperparameters_uri: str) -> float:
    """Forward FLOPs of the trained architecture for one window, from TF's graph profiler."""
    import keras_tuner

    from models.forecaster import build_forecaster
    from tasks.timeseries.module import forecaster_config

    with open(glob.glob(os.path.join(hyperparameters_uri, "*"))[0]) as handle:
        hp = keras_tuner.HyperParameters.from_config(json.load(handle))
    model = build_forecaster(forecaster_config(config, hp))
    spec = tf.TensorSpec([1, config.series.lookback, len(config.series.input_columns)], tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def run_pipeline(output_dir: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.run_local", "--output-dir", output_dir], check=True)
    return time.perf_counter() - started


def run(args) -> list[dict]:
    output_dir = os.path.join(RESULTS_DIR, "timeseries_run")
    shutil.rmtree(output_dir, ignore_errors=True)  # a fresh store: no cached components
    return measure(output_dir, run_pipeline(output_dir))


def measure(output_dir: str, wall: float) -> list[dict]:
    """The table, from the run stored under `output_dir` (which took `wall` seconds).

    The model and the challengers are scored on the test split by the pushed SavedModel
    (its `evaluation` signature carries the linear challenger fitted in the same run);
    the LSTM is trained here on the same windows.
    """
    config = load_config("timeseries", output_dir=output_dir)
    run_context, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    examples_uri = by_node["ExampleGen"].outputs["examples"][0].uri
    train, evaluation = (forecast_scores.read_split(examples_uri, s, config.series)[1:] for s in ("train", "eval"))

    model_dir, pushed = pipeline_stats.model_of_run(config, by_node)
    signature = tf.saved_model.load(model_dir).signatures[export.EVALUATION_SIGNATURE]
    windows, truth, forecasts = forecast_scores.forecasts_of_split(signature, examples_uri, "test", config.series)
    forecasts["lstm"], lstm_seconds = lstm_forecast(train, evaluation, windows, config)
    notes = {
        "model": f"{'pushed' if pushed else 'NOT pushed (candidate)'}; Trainer {by_node['Trainer'].seconds:.0f}s",
        "seasonal_naive": f"season {config.series.season} steps",
        "linear": "ridge fitted on train in the pipeline, penalty chosen on eval",
        "lstm": f"models.baselines, trained here {lstm_seconds:.0f}s",
    }
    best = None
    rows = []
    for name, forecast in forecasts.items():
        scores = challengers.errors(truth, forecast)
        rows.append({"row": name, "test_mae": scores["mae"], "test_rmse": scores["rmse"], "note": notes.get(name, "")})
        if name in challengers.CHALLENGERS and (best is None or scores["mae"] < best[1]):
            best = (name, scores["mae"])
    for row in rows:
        row["vs_best_challenger"] = row["test_mae"] / best[1]
    rows.append({"row": "test windows", "note": f"{len(truth)} windows x {config.series.horizon} steps, in the series' units; "
                 f"best challenger {best[0]}"})  # fmt: skip

    # Speed: the Trainer's throughput and achieved GFLOP/s against a matmul peak, same run.
    epochs = pipeline_stats.epochs_trained(by_node["Trainer"].outputs["model_run"][0].uri)
    trainer_seconds = by_node["Trainer"].seconds
    flops = forward_flops_per_window(config, by_node["Tuner"].outputs["best_hyperparameters"][0].uri)
    rows.append({"row": "pipeline wall (make run-local)", "seconds": wall, "note": f"run {run_context.name}"})
    rows += pipeline_stats.component_rows(executions)
    rows.append(trainer_speed(len(train[0]), epochs, trainer_seconds, flops))
    return rows


def trainer_speed(windows: int, epochs: int, seconds: float, forward_flops: float) -> dict:
    """Train windows per second and achieved GFLOP/s as a fraction of a matmul peak measured now."""
    peak = matmul_peak_gflops()
    throughput = windows * epochs / seconds  # includes evaluation and export time
    achieved = 3 * forward_flops * throughput / 1e9  # a training step is about 3x the forward FLOPs
    return {
        "row": "trainer throughput",
        "windows_per_s": throughput,
        "gflops": achieved,
        "peak_gflops": peak,
        "fraction_of_peak": achieved / peak,
        "note": f"{epochs} epochs x {windows} windows in {seconds:.0f}s; {forward_flops / 1e6:.2f} MFLOP/window forward",
    }
