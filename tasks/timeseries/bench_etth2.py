"""ETTh2, horizon 96, the standard long-horizon protocol, through the user-data path.

Runs `make run-local DATA=../shared/data/ETTh2.csv CONFIG=tasks/timeseries/examples/etth2.yaml`
in a fresh OUTPUT_DIR (no cache), then scores the pushed SavedModel (or, when the gate
pushed nothing, the run's candidate) on the raw test windows: every window whose forecast
rows lie in [11520, 14400), lookback reaching back into validation rows. Errors are in the
standard scaled units (each column standardized by its train rows' mean and population std),
averaged over all values of all columns, next to the ridge challenger fitted in the same run
(it travels in the same SavedModel) and the published figures (PatchTST paper, Table 3).
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import tensorflow as tf

from bench import pipeline_stats
from components import export
from data.config import REPO_ROOT
from pipeline.config import load_config
from tasks.timeseries import scores as forecast_scores

DATA = REPO_ROOT.parent / "shared" / "data" / "ETTh2.csv"  # CC BY-ND 4.0; read, not shipped
CONFIG = pathlib.Path(__file__).parent / "examples" / "etth2.yaml"
TRAIN_ROWS = 8640  # the protocol's train rows: the scaler is fitted on them
PUBLISHED = {  # test MSE / MAE, lookback 336, horizon 96 (Nie et al., ICLR 2023, Table 3)
    "PatchTST/42 (published)": (0.274, 0.337),
    "DLinear (published)": (0.289, 0.353),
}
RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")


def run_pipeline(output_dir: str) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "pipeline.run_local", "--output-dir", output_dir,
               "--data", str(DATA), "--config", str(CONFIG)]  # fmt: skip
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def run(args) -> list[dict]:
    if not DATA.exists():
        return [{"row": "skipped", "note": f"{DATA} not found (the bench reads ../shared/data)"}]
    output_dir = os.path.join(RESULTS_DIR, "etth2_run")
    shutil.rmtree(output_dir, ignore_errors=True)  # a fresh store: no cached components
    return measure(output_dir, run_pipeline(output_dir))


def measure(output_dir: str, wall: float) -> list[dict]:
    config = load_config(config_path=str(CONFIG), output_dir=output_dir)
    series = config.series
    run_context, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    model_dir, pushed = pipeline_stats.model_of_run(config, by_node)
    signature = tf.saved_model.load(model_dir).signatures[export.EVALUATION_SIGNATURE]
    examples_uri = by_node["ExampleGen"].outputs["examples"][0].uri
    _, truth, forecasts = forecast_scores.forecasts_of_split(signature, examples_uri, "test", series)

    train_rows = pd.read_csv(DATA, usecols=series.target_columns).iloc[:TRAIN_ROWS]
    scale = train_rows[series.target_columns].std(ddof=0).to_numpy()  # (C,), population std
    rows = []
    for name, forecast in forecasts.items():
        diff = (truth - forecast) / scale  # (N, H, C), scaled units; the mean cancels in a difference
        note = {"model": "pushed" if pushed else "NOT pushed (candidate)",
                "linear": "ridge fitted on train in the same run"}.get(name, "")  # fmt: skip
        rows.append({"row": name, "test_mse": float(np.square(diff).mean()),
                     "test_mae": float(np.abs(diff).mean()), "note": note})  # fmt: skip
    for name, (mse, mae) in PUBLISHED.items():
        rows.append({"row": name, "test_mse": mse, "test_mae": mae, "note": "not measured here"})
    rows.append({"row": "test windows", "note": f"{len(truth)} x {series.horizon} steps x {truth.shape[-1]} columns"})
    rows.append({"row": "pipeline wall (make run-local)", "seconds": wall, "note": f"run {run_context.name}"})
    rows += pipeline_stats.component_rows(executions)
    return rows


if __name__ == "__main__":  # measure an existing run: python -m tasks.timeseries.bench_etth2 OUTPUT_DIR
    from bench.run import format_table

    print(format_table(measure(sys.argv[1], float("nan"))))

