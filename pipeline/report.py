"""One self-contained HTML report of a pipeline run (plots embedded as base64 PNG, no network).

    python -m pipeline.report --task timeseries [--output-dir output] [--run RUN] [--out report.html]

Sections, each read from the run's artifacts found through ML Metadata (pipeline.inspect_mlmd):
components, data statistics (StatisticsGen), learning curves (the Trainer's TensorBoard logs),
tuner trials (Tuner outputs), evaluation against thresholds and the deployed model (TFMA),
scores of the candidate and its challengers, then the task's own sections (its TaskSpec's
`report_sections`: forecasts for time series, a confusion matrix for classifiers...), and
what `make simulate` and `make monitor` found, when they ran (OUTPUT_DIR/<task>/). A
section whose inputs are missing says why; the rest of the report is still written.
"""
from __future__ import annotations

import argparse
import html
import importlib
import pathlib
import sys

import tasks
from pipeline import inspect_mlmd, run_config, scores
from reporting import monitoring, sections, simulation
from reporting.html import STYLE, guarded, table
from tasks.taskspec import load

REPORT_FILE = "report.html"


def scores_section(report: dict, spec) -> str:
    key = report.get("scores_key")
    if not key:
        return "<p>No Scorer output in this run.</p>"
    if spec.score_lines:  # scores that are not per split of examples (returns when acting)
        return "<pre>" + html.escape("\n".join(spec.call("score_lines", key, report[key]))) + "</pre>"
    header, rows = scores.table_rows(report[key])
    return "<p>Eval chooses (it gates); test chooses nothing.</p>" + table(header, rows)


def tuner_objective(spec) -> tuple[str, str]:
    """(metric, "min" | "max") the task's Tuner optimizes (its module's TUNER_OBJECTIVE)."""
    objective = importlib.import_module(spec.module).TUNER_OBJECTIVE
    return objective.name, objective.direction


def build_report(config, run: str | None = None) -> str:
    spec = tasks.spec(config.task)
    report = inspect_mlmd.collect(config.metadata_path, run, config.task)
    parts = [
        ("Components", lambda: sections.components_section(report)),
        ("Data statistics", lambda: sections.statistics_section(report)),
        ("Learning curves", lambda: sections.learning_curves_section(report)),
        ("Tuner trials", lambda: sections.tuner_section(report, config, tuner_objective(spec))),
        ("Evaluation", lambda: sections.evaluation_section(report)),
        ("Scores of the candidate and the challengers", lambda: scores_section(report, spec)),
    ]
    for title, dotted in spec.report_sections:
        parts.append((title, lambda dotted=dotted: load(dotted)(report, config)))
    if simulation.timeline_path(config.task_dir).exists():  # `make simulate` ran for this task
        parts.append(("Continuous training: the simulated schedule (make simulate)", lambda: simulation.timeline_section(config.task_dir)))
    if monitoring.result_path(config.task_dir).exists():  # `make monitor` ran for this task
        parts.append(("The served inputs: skew and drift (make monitor)", lambda: monitoring.monitor_section(config.task_dir)))
    body = "".join(guarded(title, build) for title, build in parts)
    title = f"{config.pipeline_name}: run {report['run']}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>ML Metadata: {html.escape(report['store'])}</p>{body}</body></html>")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (as for the run)")
    parser.add_argument("--run", help="run name or index (default: the latest)")
    parser.add_argument("--out", help=f"HTML path (default: OUTPUT_DIR/<task>/{REPORT_FILE})")
    args = parser.parse_args(argv)
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("report", args.task, args.output_dir, args.config, args.set)
    except (FileNotFoundError, ValueError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    try:
        page = build_report(config, args.run)
    except inspect_mlmd.InspectError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    out = pathlib.Path(args.out) if args.out else config.task_dir / REPORT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page)
    print(f"Report: {out} ({len(page) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
