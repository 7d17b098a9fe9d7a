"""What `trainer.warm_start` buys when a new span arrives: warm against cold, on the default series.

Per seed: the default series is cut as `make simulate` cuts it (tasks/timeseries/simulation.py):
the history as span 0, then one day as span 1. A run on span 0 blesses and pushes a model; its
output folder is copied twice, span 1 arrives, and the same pipeline runs in each copy, once
from scratch (cold) and once warm-started from the blessed model. Both use the Tuner's defaults
only (`tuner.max_trials=1`), so their models have the same shapes.

Rows: per seed and start, the run's and the Trainer's seconds, the epochs run and kept, the best
eval loss, the epochs and Trainer seconds until the eval loss first reached the cold model's best
(warm: 0 means the warm start itself was as good), and the test MAE (the Scorer's, in mg/dL;
the test split chooses nothing). Then the mean and spread over seeds.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import numpy as np

from data import spans
from pipeline import inspect_mlmd, run_local
from pipeline.config import load_config
from tasks.timeseries import simulation
from tasks.timeseries import source as timeseries_source

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "results", "warm_start")
SETTINGS = ["tuner.max_trials=1"]
DEFAULT_SEEDS = 3


def run_pipeline(pattern: str, output_dir: str, seed: int, *settings: str) -> float:
    command = run_local.command("timeseries", output_dir, pattern, settings=[f"seed={seed}", *SETTINGS, *settings])
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"run in {output_dir} failed: {(done.stdout + done.stderr)[-2000:]}")
    return time.perf_counter() - started


def last_run(output_dir: str) -> dict:
    """The Trainer's record (keep_best.json) and seconds, and the test MAE of the newest run."""
    path = str(load_config("timeseries", output_dir=output_dir).metadata_path)
    report = inspect_mlmd.collect(path, task="timeseries")
    model = next(a for a in report["artifacts"] if a["node"] == "Trainer" and a["key"] == "model")
    with open(os.path.join(model["uri"], "keep_best.json")) as handle:
        record = json.load(handle)
    trainer = next(c for c in report["components"] if c["node"] == "Trainer")
    scores = report.get(report["scores_key"]) or {}
    test_mae = scores.get("test", {}).get("model", {}).get("mae")
    return {"record": record, "trainer_s": trainer["seconds"], "test_mae": test_mae}


def reached(history: list[dict], target: float) -> tuple[int | None, float | None]:
    """(epoch, Trainer seconds) at which the eval loss first reached `target` (None: never)."""
    for entry in history:
        if entry["val_loss"] <= target * (1 + 1e-6):
            return entry["epoch"], entry["seconds"]
    return None, None


def run(args) -> list[dict]:
    rows = []
    for seed in range(args.seeds or DEFAULT_SEEDS):
        root = os.path.abspath(os.path.join(RESULTS_DIR, f"seed{seed}"))
        shutil.rmtree(root, ignore_errors=True)
        config = load_config("timeseries", output_dir=os.path.join(root, "source"))
        parts = simulation.cut_days(config, simulation.read(config, timeseries_source.resolve_data(config)), 1)
        data = os.path.join(root, "data")
        os.makedirs(data)
        pattern = os.path.join(data, simulation.SPAN_FILE)

        def deliver(number: int, frame, pattern=pattern, config=config) -> None:
            simulation.write(config, frame, spans.path_of(pattern, number, 1))

        deliver(0, parts[0])
        run_pipeline(pattern, os.path.join(root, "base"), seed)
        for start in ("cold", "warm"):
            shutil.copytree(os.path.join(root, "base"), os.path.join(root, start))
        deliver(1, parts[1])
        found = {}
        for start in ("cold", "warm"):
            seconds = run_pipeline(pattern, os.path.join(root, start), seed, f"trainer.warm_start={start == 'warm'}")
            found[start] = {**last_run(os.path.join(root, start)), "run_s": seconds}
        target = min(e["val_loss"] for e in found["cold"]["record"]["eval_history"])
        for start, result in found.items():
            history = result["record"]["eval_history"]
            epoch, seconds = reached(history, target)
            rows.append({
                "seed": seed, "start": start, "warm_started": result["record"].get("warm_started"),
                "run_s": round(result["run_s"], 1), "trainer_s": result["trainer_s"],
                "epochs_run": result["record"]["epochs_run"], "kept_epoch": result["record"]["kept_epoch"],
                "best_eval_loss": min(e["val_loss"] for e in history),
                "epochs_to_cold_best": epoch, "trainer_s_to_cold_best": seconds, "test_mae": result["test_mae"],
            })  # fmt: skip
    for start in ("cold", "warm"):
        mine = [r for r in rows if r["start"] == start]
        summary = {"seed": "mean ± sd", "start": start}
        for key in ("run_s", "trainer_s", "epochs_to_cold_best", "trainer_s_to_cold_best", "test_mae"):
            values = [r[key] for r in mine if r[key] is not None]
            summary[key] = f"{np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.3f}" if values else None
        rows.append(summary)
    return rows


