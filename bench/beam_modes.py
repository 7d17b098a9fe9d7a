"""Where Beam's in-memory runner stops paying: the Beam components' seconds by data size and mode.

`beam.runner: auto` (pipeline/profiles/local.yaml) runs Beam in the pipeline's own process
for data up to `in_memory_max_mb`, and in one worker process per core above it. Each
worker re-imports TensorFlow, a fixed cost of seconds per component; one process does the
work on one core. This benchmark measures both on the same data, a copy of the packaged
glucose series repeated 1, 8 and 32 times (timestamps continued at its 5-minute step),
with a token training budget: only the ExampleGen, StatisticsGen, Transform and Evaluator
seconds are compared (the Trainer's are the same in both modes).

A third mode, `portable`, runs the same components through Beam's portability layer (the
path of Flink, Spark and Dataflow Runner v2): a local job service and an external pool of
SDK worker processes (pipeline/portable.py). What it costs over the DirectRunner is what
a distributed runner's protocol costs before any cluster is involved.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile

import pandas as pd

from bench.pipeline_stats import latest_run
from tasks.timeseries import source as timeseries_source

REPEATS = (1, 8, 32)
MODES = ("direct_in_memory", "direct", "portable")
BEAM_COMPONENTS = ("ExampleGen", "StatisticsGen", "Transform", "Evaluator")
BUDGET = ["tuner.max_trials=1", "tuner.epochs=1", "tuner.steps_per_epoch=5", "trainer.epochs=1"]
STEP = pd.Timedelta(minutes=5)  # the packaged series' sampling step


def repeated_series(root: pathlib.Path, repeats: int) -> pathlib.Path:
    """The packaged series `repeats` times end to end, timestamps continued at its step."""
    frame = pd.read_csv(timeseries_source.prepare_default_csv(str(root / "source")))
    times = pd.to_datetime(frame["time"])
    span = times.iloc[-1] - times.iloc[0] + STEP
    copies = []
    for k in range(repeats):
        copy = frame.copy()
        copy["time"] = (times + k * span).dt.strftime("%Y-%m-%d %H:%M:%S")
        copies.append(copy)
    path = root / f"series_x{repeats}.csv"
    pd.concat(copies, ignore_index=True).to_csv(path, index=False)
    return path


def run_once(data: pathlib.Path, mode: str, output_dir: str) -> dict:
    command = [sys.executable, "-m", "pipeline.run_local", "--task", "timeseries", "--data", str(data),
               "--output-dir", output_dir, "--set", f"beam.runner={mode}"]  # fmt: skip
    for item in BUDGET:
        command += ["--set", item]
    subprocess.run(command, check=False, capture_output=True, text=True)
    _, executions = latest_run(str(pathlib.Path(output_dir) / "timeseries" / "metadata.sqlite"))
    seconds = {e.node: e.seconds for e in executions}
    return {component: seconds.get(component) for component in BEAM_COMPONENTS}


def run(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        for repeats in REPEATS:
            data = repeated_series(root, repeats)
            row = {"data_mb": data.stat().st_size / 2**20}
            for mode in MODES:
                seconds = run_once(data, mode, str(root / f"{mode}_x{repeats}"))
                row[f"{mode}_s"] = sum(s for s in seconds.values() if s is not None)
                row |= {f"{mode}_{c}": s for c, s in seconds.items()}
            row["in_memory_faster"] = row["direct_in_memory_s"] < row["direct_s"]
            row["portable_over_direct"] = row["portable_s"] / row["direct_s"] if row["direct_s"] else None
            rows.append(row)
    return rows
