"""Trainer speed per task: examples/s, counted FLOPs, the fraction of the matmul peak, the time split.

One fresh default run per task with `trainer.profile=true` (components/train_profile.py
measures, in the Trainer's own process and after its training, the figures of one
steady-state epoch, the model's compute alone on one batch, the input pipeline alone, and
the FP32 `tf.matmul` peak of that process). Each row is one run: its wall time, the Tuner's
and Trainer's seconds, and the model's test scores, so that speed and quality are read
together. `--trainer-speed-tasks` picks tasks; `--trainer-speed-set` adds overrides (e.g. an
older recipe, to compare before and after in the same conditions).
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

from bench.pipeline_stats import latest_run
from components import train_profile
from pipeline import scores

TASKS = ("timeseries", "text", "vision", "speech", "decision")
MS = 1000.0


def run_task(task: str, output_dir: pathlib.Path, overrides: list[str]) -> tuple[float, int]:
    command = [sys.executable, "-m", "pipeline.run_local", "--task", task, "--output-dir", str(output_dir),
               "--set", "trainer.profile=true"]  # fmt: skip
    for item in overrides:
        command += ["--set", item]
    started = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def row_of(task: str, output_dir: pathlib.Path, wall: float, code: int) -> dict:
    _, executions = latest_run(str(output_dir / task / "metadata.sqlite"))
    by_node = {e.node: e for e in executions}
    figures = train_profile.read(by_node["Trainer"].outputs["model"][0].uri) or {}
    scored = scores.of_run(executions)
    test = (scored[1].get("test") or {}).get("model") if scored else None
    return {
        "task": task,
        "run_s": wall - figures.get("profile_s", 0),  # without the profile's own seconds
        "profile_s": figures.get("profile_s"),
        "exit": code,
        "tuner_s": by_node["Tuner"].seconds,
        "trainer_s": by_node["Trainer"].seconds - figures.get("profile_s", 0),
        "examples_per_s": figures.get("examples_per_s"),
        "mflops_per_example": figures.get("flops_per_example", 0) / 1e6,
        "achieved_gflops": figures.get("achieved_gflops"),
        "peak_gflops": figures.get("matmul_peak_gflops"),
        "peak_fraction": figures.get("peak_fraction"),
        "batch": figures.get("batch_size"),
        "step_ms": figures.get("step_s", 0) * MS,
        "input_ms_per_step": figures.get("input_s_per_step", 0) * MS,
        "compute_ms_per_step": figures.get("compute_s_per_step", 0) * MS,
        "overhead_ms_per_step": figures.get("overhead_s_per_step", 0) * MS,
        "test": json.dumps(test, sort_keys=True) if test else None,
    }


def run(args) -> list[dict]:
    root = pathlib.Path(args.output_dir) / "bench_trainer_speed"
    rows = []
    for task in getattr(args, "trainer_speed_tasks", None) or TASKS:
        output_dir = root / f"{task}_{time.strftime('%Y%m%d%H%M%S')}"
        wall, code = run_task(task, output_dir, list(getattr(args, "trainer_speed_set", None) or []))
        rows.append(row_of(task, output_dir, wall, code))
    return rows

