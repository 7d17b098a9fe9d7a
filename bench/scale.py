"""Cost against data size: each component's time, peak memory and artifact size at 1x, 4x, 16x.

The time-series pipeline runs on ETTh2 tiled to 1, 4 and 16 times its length (17,420 hourly
rows x 7 columns at 1x; bench/scaled_data.py), through the long-horizon example config
(tasks/timeseries/examples/etth2.yaml: lookback 336, horizon 96) with split fractions
instead of its dates, so every split grows with the series; the text pipeline on its
review snippets 1, 4 and 16 times (perturbed copies keep the class signal). Each run is a
fresh `pipeline.run_local` process with a fixed training budget (`BUDGETS`: one tuner trial
of a fixed number of steps, a fixed number of Trainer epochs, no early stopping), so the
Trainer's time follows the data rather than when it would have stopped.

Per component: seconds (its ML Metadata execution, bench/pipeline_stats.py), peak RSS of the
run's process tree while it ran (bench/rss_sampler.py) and the size on disk of its output
artifacts; then the growth exponent of time and memory over the sizes, the time and memory
fitted at 100x, and the first component to break at 100x on this machine (bench/growth.py).
Times are inflated by whatever else shares the CPU: each run row carries the load average.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import psutil

from bench import growth, rss_sampler, scaled_data
from bench.pipeline_stats import latest_run
from data.config import REPO_ROOT
from pipeline import mlmd, run_local

FACTORS = (1, 4, 16)
TARGET = 100  # the size the fits are extrapolated to
MB = 2**20
SAVED_RUNS = "scale_runs"  # under OUTPUT_DIR: each measured run, for --reuse-runs
ETTH2_CONFIG = REPO_ROOT / "tasks" / "timeseries" / "examples" / "etth2.yaml"
FIXED_TRAINING = ["tuner.max_trials=1", "tuner.epochs=1", "tuner.steps_per_epoch=5", "trainer.epochs=1"]
BUDGETS = {  # task -> (writes the data at a factor, config, overrides)
    "timeseries": (scaled_data.write_series, str(ETTH2_CONFIG),
                   ["series.split_dates=null", "series.split_fractions=[0.6, 0.2, 0.2]", "series.stride=4",
                    *FIXED_TRAINING]),
    "text": (scaled_data.write_texts, None, FIXED_TRAINING),
}  # fmt: skip


def artifact_bytes(uri: str) -> int:
    """Bytes of the files under an artifact's URI (a file or a folder)."""
    if os.path.isfile(uri):
        return os.path.getsize(uri)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(uri) for f in files)


def measure_run(task: str, factor: int, root: pathlib.Path) -> dict:
    """One fresh pipeline run at `factor`: {"wall", "exit", "load", "examples", "components"}."""
    write, config, overrides = BUDGETS[task]
    data = write(root, factor)
    output_dir = root / f"{task}_x{factor}"
    command = run_local.command(task, str(output_dir), data=str(data), config=config, settings=overrides)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with open(root / f"{task}_x{factor}.console", "w") as console:
        process = subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT)
        with rss_sampler.TreeSampler(process.pid) as sampler:
            code = process.wait()
    wall = time.perf_counter() - started
    _, executions = latest_run(str(output_dir / task / "metadata.sqlite"))
    intervals = {e.node: (e.execution.create_time_since_epoch / 1000, e.execution.last_update_time_since_epoch / 1000)
                 for e in executions}  # fmt: skip
    peak = rss_sampler.peaks(sampler.samples, intervals)
    components = {
        e.node: {"seconds": e.seconds, "rss_bytes": peak[e.node], "state": e.state,
                 "disk_bytes": sum(artifact_bytes(a.uri) for key in e.outputs for a in e.outputs[key])}
        for e in executions
    }  # fmt: skip
    by_node = {e.node: e for e in executions}
    written = by_node["ExampleGen"].outputs["examples"][0] if "ExampleGen" in by_node else None
    train = next((mlmd.custom(written, k) for k in written.custom_properties if k.endswith("_train")), None) if written else None
    shutil.rmtree(output_dir / task / "pipeline_root", ignore_errors=True)  # measured; free the disk
    return {"wall": wall, "exit": code, "load": (load_before + os.getloadavg()[0]) / 2,
            "data_mb": data.stat().st_size / MB, "components": components, "train_examples": train}


def measured_run(task: str, factor: int, root: pathlib.Path, saved: pathlib.Path) -> dict:
    """`measure_run`, its result kept under OUTPUT_DIR/scale_runs/: a 16x run takes tens of
    minutes, so the tasks can be measured by separate invocations (side by side, or some sizes
    later) and `--reuse-runs` then makes the table of every run saved, running nothing."""
    result = measure_run(task, factor, root)
    (saved / f"{task}_x{factor}.json").write_text(json.dumps(result, indent=1))
    return result


def component_rows(task: str, factors: list[int], runs: list[dict]) -> list[dict]:
    """One row per component: its costs at each factor, the exponents and the fits at 100x."""
    rows = []
    names = list(dict.fromkeys(n for run in runs for n in run["components"]))
    lifted = lifts(runs)
    for name in names:
        cost = {key: [run["components"].get(name, {}).get(key) for run in runs]
                for key in ("seconds", "rss_bytes", "disk_bytes")}  # fmt: skip
        row = {"task": task, "component": name}
        row |= {f"s_{f}x": s for f, s in zip(factors, cost["seconds"], strict=True)}
        row |= {f"rss_mb_{f}x": rss / MB if rss else None for f, rss in zip(factors, cost["rss_bytes"], strict=True)}
        row |= {f"disk_mb_{f}x": d / MB if d is not None else None for f, d in zip(factors, cost["disk_bytes"], strict=True)}
        k_time = growth.exponent(factors, cost["seconds"])
        row["k_time"] = k_time
        row["k_rss"] = growth.exponent(factors, cost["rss_bytes"])
        row["k_disk"] = growth.exponent(factors, cost["disk_bytes"])
        lift = lifted[-1].get(name)
        row[f"lift_mb_{factors[-1]}x"] = lift / MB if lift is not None else None
        row[f"s_{TARGET}x_fit"] = growth.power_at(factors, cost["seconds"], TARGET)
        rss_fit = growth.affine_at(factors, cost["rss_bytes"], TARGET)
        row[f"rss_gb_{TARGET}x_fit"] = rss_fit / growth.GIB if rss_fit else None
        row["note"] = "k_time > 1.1" if k_time is not None and k_time > growth.LINEAR_K and max(cost["seconds"]) > 1 else ""
        rows.append(row)
    return rows


def lifts(runs: list[dict]) -> list[dict[str, float | None]]:
    """Per run, by component: how far it lifted the run's resident-memory mark (growth.raises)."""
    found = []
    for run in runs:
        names = list(run["components"])
        found.append(dict(zip(names, growth.raises([run["components"][n]["rss_bytes"] for n in names]), strict=True)))
    return found


def run_rows(task: str, factors: list[int], runs: list[dict]) -> list[dict]:
    """One row per run: wall seconds, exit code, data, train examples, the load average."""
    return [{"task": task, "component": f"(run {factor}x)", f"s_{factor}x": run["wall"],
             "note": f"exit {run['exit']}, {run['data_mb']:.1f} MB CSV, {run['train_examples']} train examples, "
                     f"load avg {run['load']:.1f} on {os.cpu_count()} cores"}
            for factor, run in zip(factors, runs, strict=True)]  # fmt: skip


def breaking_row(measured: dict[str, tuple[list[int], list[dict]]]) -> dict:
    """The first component, over all tasks, whose fitted memory or time reaches this machine's limits."""
    ram = psutil.virtual_memory().total
    found = []
    for task, (factors, runs) in measured.items():
        lifted = lifts(runs)[-1]  # at the largest size: only a component that lifts the mark runs out of memory first
        costs = {name: {"seconds": [run["components"].get(name, {}).get("seconds") for run in runs],
                        "rss_bytes": [run["components"].get(name, {}).get("rss_bytes") for run in runs]
                        if (lifted.get(name) or 0) > 0 else [None] * len(runs)}
                 for name in dict.fromkeys(n for run in runs for n in run["components"])}  # fmt: skip
        hit = growth.first_to_break(costs, factors, ram)
        if hit:
            found.append((hit[1], task, hit[0], hit[2]))
    if not found:
        return {"component": "(first to break)", "note": "no fitted cost reaches the RAM or a day"}
    size, task, name, why = min(found)
    verdict = "breaks before" if size <= TARGET else "first to break, beyond"
    return {"component": "(first to break)", "task": task,
            "note": f"{name}: {why} ({ram / growth.GIB:.0f} GiB, {os.cpu_count()} cores) at ~{size:.0f}x: {verdict} {TARGET}x"}  # fmt: skip


def run(args) -> list[dict]:
    factors = list(getattr(args, "scale_factors", None) or FACTORS)
    tasks = list(getattr(args, "scale_tasks", None) or BUDGETS)
    saved = pathlib.Path(getattr(args, "output_dir", None) or "output") / SAVED_RUNS
    saved.mkdir(parents=True, exist_ok=True)
    rows, measured = [], {}
    with tempfile.TemporaryDirectory(dir=saved.parent) as tmp:
        for task in tasks:
            if getattr(args, "reuse_runs", False):  # the table of what was measured: run nothing new
                sizes = [f for f in factors if (saved / f"{task}_x{f}.json").exists()]
                runs = [json.loads((saved / f"{task}_x{f}.json").read_text()) for f in sizes]
            else:
                sizes, runs = factors, [measured_run(task, f, pathlib.Path(tmp), saved) for f in factors]
            measured[task] = (sizes, runs)
            rows += component_rows(task, sizes, runs) + run_rows(task, sizes, runs)
    rows.append(breaking_row(measured))
    rows.append(slowest_row(rows))
    rows.append({"component": "(training budget)", "note": "fixed at every size, no early stopping: " + ", ".join(FIXED_TRAINING)})
    return rows


def slowest_row(rows: list[dict]) -> dict:
    """The component with the most seconds fitted at 100x (time's power law)."""
    key = f"s_{TARGET}x_fit"
    fitted = [r for r in rows if r.get(key)]
    if not fitted:
        return {"component": f"(slowest at {TARGET}x)", "note": "no fit"}
    slowest = max(fitted, key=lambda r: r[key])
    return {"component": f"(slowest at {TARGET}x)", "task": slowest["task"],
            "note": f"{slowest['component']}: ~{slowest[key] / 60:.0f} min fitted (k_time {slowest['k_time']:.2f})"}  # fmt: skip
