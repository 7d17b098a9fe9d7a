"""The report's timeline of `make simulate` (pipeline/simulate.py): one row per simulated day."""
from __future__ import annotations

import json
import pathlib

from reporting.html import plt, png, table
from reporting.monitoring import day_summary

SIMULATION_DIR = "simulation"  # under OUTPUT_DIR/<task>/
TIMELINE = "timeline.json"
ERROR_SUFFIXES = ("_mae", "_error")  # the live errors a task's simulation reports per day


def timeline_path(task_dir: pathlib.Path) -> pathlib.Path:
    return task_dir / SIMULATION_DIR / TIMELINE


def error_keys(days: list[dict]) -> list[str]:
    return [key for key in days[0] if key.endswith(ERROR_SUFFIXES)] if days else []


def timeline_section(task_dir: pathlib.Path) -> str:
    """A plot of the served model's live error next to the naive forecast's, day by day, with
    what the gate did each day and the monitor's alarms (dashed), and the table of the timeline."""
    days = json.loads(timeline_path(task_dir).read_text())
    keys = error_keys(days)
    figure, axis = plt.subplots(figsize=(9, 3.2))
    x = [d["day"] for d in days]
    for key in keys:
        axis.plot(x, [d[key] if d[key] is not None else float("nan") for d in days], marker="o", label=key)
    top = axis.get_ylim()[1] if keys else 1.0
    for d in days:  # what the gate did: pushed, kept, or stopped before the gate
        mark = "pushed" if d.get("pushed") else ("stopped" if str(d["verdict"]).startswith("stopped") else "kept")
        axis.annotate(mark, (d["day"], top), ha="center", va="top", fontsize=8,
                      color={"pushed": "green", "kept": "gray", "stopped": "red"}[mark])  # fmt: skip
    axis.set_xlabel("simulated day (the error is of the model served after that day, on the next day's values)")
    axis.set_ylabel("live error")
    axis.legend()
    for d in days:  # the monitor's alarms on the day's requests
        if (d.get("monitor") or {}).get("alarm"):
            axis.axvline(d["day"], color="orange", linestyle="--", linewidth=1)
    header = ["day", "spans", "monitor", "served version", "blessed", "pushed", "verdict", *keys, "deployed unchanged", "seconds"]
    rows = [[d["day"], f"{min(d['spans'])}..{max(d['spans'])}" if d["spans"] else "", day_summary(d.get("monitor")),
             d["served_version"] or "none", d["blessed"], d.get("pushed"), d["verdict"], *[d[k] for k in keys],
             d.get("deployed_unchanged"), d.get("seconds")] for d in days]  # fmt: skip
    return png(figure) + table(header, rows)
