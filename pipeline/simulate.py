"""`make simulate TASK=... DAYS=N`: a month of a schedule, replayed on this machine in minutes.

    python -m pipeline.simulate --task timeseries --days 7 [--drift-day 4] [--break-day 5] [--data my.csv]

The task's data (the packaged default, or DATA) is cut into spans (its TaskSpec's `simulation`
module says how): the history arrives as span 0, then one span a day. Each simulated day:
1. the day's span is dropped into the data folder, OUTPUT_DIR/<task>/simulation/data/, named
   by a TFX span pattern (with `{VERSION}`: a corrected span is re-delivered as a new version);
2. the model that served since yesterday answers the day's requests (the task's `answer`): they
   are written to the request log as `make serve` writes them, `make monitor` checks the last
   MONITOR_DAYS days of them against that model's training data (skew) and the previous check
   (drift), and the model is scored on the day's actual values, next to the task's naive
   forecast (the truth of yesterday's forecast arrives with today's span);
3. the pipeline runs as the schedule would (`make run-local`'s entry point, in this process, on the
   pattern; its own ML Metadata store and serving folder under the simulation folder), and the gate decides.

The timeline (one object per day: day, spans, served_version, blessed, verdict, the live errors,
the monitor's result, seconds) is written after every day to OUTPUT_DIR/<task>/simulation/timeline.json, and `make
report` shows it as a table and a plot. A day that does not push checks that every file of the
deployed version is unchanged (`deployed_unchanged`). Settings the schedule uses on top of the
task's config: SETTINGS (warm start, so each day starts from the blessed model; the Tuner's
defaults only, so the model's shapes stay those of the blessed model), then `--set`.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import pathlib
import shutil
import sys
import time
import traceback

import pandas as pd

import tasks
from components.export import serving_versions
from data import spans
from data.config import PipelineConfig
from pipeline import inspect_mlmd, monitor, run_local
from pipeline.config import load_config
from pipeline.fingerprint import file_fingerprint
from reporting import monitoring
from reporting.simulation import SIMULATION_DIR, TIMELINE
from serving import request_log

SETTINGS = ["trainer.warm_start=true", "trainer.warm_start_epochs=3", "tuner.max_trials=1"]
VALIDATION_NODES = ("StatisticsGen", "ExampleValidator", "AnomalyGate")
# The monitor's window each day: the requests of the last two simulated days. One day of one
# patient's glucose is too narrow a sample: over the 56 days after the packaged series' train
# split, one day's requests against training gave a skew divergence of 0.07 to 0.45 (36 % above
# the schema's 0.15) with no shift at all. Two days: 9 % of the windows above 0.15 unshifted,
# 95 % once both days read one standard deviation high (29 % with only the second day shifted),
# so a drift is flagged on its second day. Longer windows dilute a new shift (three days: 34 %).
MONITOR_DAYS = 2


def served(serving_dir: str) -> tuple[str | None, str | None]:
    """(newest version, its folder) under `serving_dir`, or (None, None) when nothing is deployed."""
    versions = serving_versions(serving_dir) if os.path.isdir(serving_dir) else []
    return (str(versions[-1]), os.path.join(serving_dir, str(versions[-1]))) if versions else (None, None)


def failure(output: str) -> str:
    """The run's own words on why it stopped: its "Run FAILED" line and the lines that follow it."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Run FAILED"):
            rest = []
            for more in lines[i + 1 :]:
                if not more.strip() or more.startswith("Run "):
                    break
                rest.append(more.strip())
            return " ".join([line.split(": ", 1)[-1], *rest[:3]])
    return output.strip().splitlines()[-1] if output.strip() else "no output"


def outcome(metadata_path: str, task: str, returncode: int, output: str) -> dict:
    """What the day's run decided: {blessed, verdict, pushed, spans, evidence (the gate's comparisons
    in words, with their intervals)}, from its ML Metadata."""
    report = inspect_mlmd.collect(metadata_path, task=task)
    states = {c["node"]: c["state"] for c in report["components"]}
    read = next((a["properties"].get(spans.SPANS_PROPERTY) for a in report["artifacts"] if a["node"] == "ExampleGen"), None)
    found = json.loads(read) if read else None
    pushed = any(a["node"] == "Pusher" and a["properties"].get("pushed") == 1 for a in report["artifacts"])
    if returncode != 0:
        failed = next((node for node, state in states.items() if state == "FAILED"), None)
        where = f"validation ({failed})" if failed in VALIDATION_NODES else (failed or "the start")
        return {"blessed": False, "pushed": False, "spans": found, "verdict": f"stopped at {where}: {failure(output)}",
                "evidence": []}  # fmt: skip
    decision = report["evaluation"] or {}
    return {"blessed": bool(decision.get("blessed")), "pushed": pushed, "spans": found,
            "verdict": decision.get("why", "no evaluation"),
            "evidence": [*decision.get("gate_lines", []), *filter(None, [decision.get("statement")])]}  # fmt: skip


def run_day(args: argparse.Namespace, pattern: str, runs_dir: str, log: pathlib.Path) -> tuple[int, str]:
    """The day's scheduled run, `make run-local`'s own entry point in this process: (exit code, what it
    printed). In process, not in a fresh one: TensorFlow's and TFX's imports cost about 9 s a day.
    The run's library output goes to its own log (run_local's Console); what it shows a user is
    the day's log. A crash is the day's failure, as a scheduler would see it, not the simulation's."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
        try:
            code = run_local.main(run_local.arguments(args.task, runs_dir, pattern, args.config, [*SETTINGS, *args.set]))
        except Exception:  # noqa: BLE001  (the day fails; the schedule goes on)
            traceback.print_exc()
            code = 1
    log.write_text(shown.getvalue())
    return code, shown.getvalue()


def log_requests(task_dir: pathlib.Path, request: dict, outputs: dict, version: int) -> int:
    """Write the day's answered requests to the task's request log, as `make serve` would; their number."""
    if not request:
        return 0
    log = request_log.RequestLog(request_log.folder(task_dir)).start()
    log.submit(request, outputs, version)
    log.stop()
    return log.written


def watch(task: str, output_dir: str, last: int) -> dict | None:
    """`make monitor LAST=<the last MONITOR_DAYS days' requests>`: {alarm, requests, lines, findings};
    None when there is nothing to check."""
    if last < 1:
        return None
    try:
        status, _ = monitor.monitor(task, output_dir, last=last)
    except monitor.MonitorError:
        return None
    result = json.loads(monitoring.result_path(pathlib.Path(output_dir).resolve() / task).read_text())
    findings = [{k: f[k] for k in ("feature", "kind", "statistic", "value", "threshold", "anomaly")} for f in result["findings"]]
    return {"alarm": status == monitor.EXIT_ANOMALIES, "requests": result["requests"], "lines": result["anomalies"],
            "findings": findings}  # fmt: skip


def simulate(args: argparse.Namespace, config: PipelineConfig) -> list[dict]:
    spec = tasks.spec(args.task)
    if not spec.simulation:
        raise ValueError(f"task '{args.task}' has no simulation (its TaskSpec's `simulation`)")
    sim = importlib.import_module(spec.simulation)
    root = config.task_dir / SIMULATION_DIR
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    (root / "logs").mkdir()
    pattern = str(root / "data" / sim.SPAN_FILE)
    runs = PipelineConfig(task=args.task, output_dir=str(root / "runs"))
    parts = sim.cut_days(config, sim.read(config, spec.call("resolve_data", config)), args.days)

    def deliver(number: int, frame, version: int = 1) -> None:
        sim.write(config, frame, spans.path_of(pattern, number, version))

    deliver(0, parts[0])
    truth = [parts[0]]  # each day's actual values as the sensor (or source) delivered them
    requests_per_day: list[int] = []  # how many requests each day's served model answered (and logged)
    timeline: list[dict] = []
    started = time.perf_counter()
    for day in range(1, args.days + 1):
        clock = time.perf_counter()
        actual = sim.drifted(config, parts[day], parts[0]) if args.drift_day and day >= args.drift_day else parts[day]
        truth.append(actual)
        delivered = sim.corrupted(config, actual) if day == args.break_day else actual
        deliver(day, delivered)
        if args.break_day and day == args.break_day + 1:  # yesterday's corrupt span, corrected
            deliver(args.break_day, truth[args.break_day], version=2)
        watched = None
        version, folder = served(runs.serving_dir)
        if version is not None:  # the model served since yesterday answers the day's requests
            before = pd.concat(truth[:day], ignore_index=True)  # every row delivered before the day
            request, outputs, errors = sim.answer(config, folder, before, delivered)
            requests_per_day.append(log_requests(runs.task_dir, request, outputs, int(version)))
            watched = watch(args.task, runs.output_dir, sum(requests_per_day[-MONITOR_DAYS:]))
            if day != args.break_day:  # its errors on the day's true values: yesterday's row
                timeline[-1].update(errors)
        deployed_files = file_fingerprint(folder) if folder else None
        code, output = run_day(args, pattern, runs.output_dir, root / "logs" / f"day-{day}.log")
        result = outcome(runs.metadata_path, args.task, code, output)
        entry = {
            "day": day, "spans": result["spans"], "served_version": served(runs.serving_dir)[0], "blessed": result["blessed"],
            "pushed": result["pushed"], "verdict": result["verdict"], **{key: None for key in sim.ERROR_KEYS},
            "deployed_unchanged": (file_fingerprint(folder) == deployed_files) if folder and not result["pushed"] else None,
            "evidence": result["evidence"],  # each comparison of the gate, with its interval
            "monitor": watched,  # the day's requests (and yesterday's) against the served model's training data
            "seconds": round(time.perf_counter() - clock, 1),
        }  # fmt: skip
        if args.drift_day and day >= args.drift_day:
            entry["note"] = "drift: " + sim.DRIFT_NOTE
        if day == args.break_day:
            entry["note"] = "corrupt span delivered"
        timeline.append(entry)
        write_timeline(root, timeline)
        print(day_line(entry), flush=True)
    print(f"{args.days} simulated days in {time.perf_counter() - started:.0f} s; timeline: {root / TIMELINE}")
    return timeline


def write_timeline(root: pathlib.Path, timeline: list[dict]) -> None:
    (root / TIMELINE).write_text(json.dumps(timeline, indent=2))


def day_line(entry: dict) -> str:
    state = "BLESSED" if entry["blessed"] else "not blessed"
    serving = f"serving {entry['served_version']}" + (" (new)" if entry["pushed"] else " (unchanged)") if entry["served_version"] else "nothing deployed"
    return (f"day {entry['day']}: spans {spans.numbers(entry['spans'] or [])}; {monitoring.day_summary(entry.get('monitor'))}; "
            f"{state}: {entry['verdict'][:160]}; {serving}; {entry['seconds']:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--drift-day", type=int, default=None, help="from this day on, the data drift (the task says how)")
    parser.add_argument("--break-day", type=int, default=None, help="this day's span is corrupt")
    parser.add_argument("--config")
    parser.add_argument("--data", help="your CSV (default: the packaged data set)")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.task, args.config, [*SETTINGS, *args.set], data=args.data, output_dir=args.output_dir)
        simulate(args, config)
    except (ValueError, FileNotFoundError) as error:
        print(f"simulate: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
