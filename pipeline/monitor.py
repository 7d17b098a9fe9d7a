"""Watch the served model's inputs: skew against its training data, drift against the last window.

    python -m pipeline.monitor --task timeseries [--output-dir output] [--last N] [--schema FILE]
                               [--truth FILE [--config YAML]]

Reads the requests `make serve` logged (OUTPUT_DIR/<task>/requests/), over a window: the
last N (`--last`), or by default those logged since the last monitor run (a cursor under
OUTPUT_DIR/<task>/monitor/). Finds the deployed model through ML Metadata (the newest
PushedModel, its Pusher's run, that run's curated schema and training statistics) and has
TFDV compare the window's raw inputs with them (components/serving_monitor.py): skew with
the schema's `skew_comparator`, drift from the previous window with its `drift_comparator`,
and the schema itself in the SERVING environment. The schema is the one the deployed model's
run recorded; `--schema` reads another file instead (a threshold edited since that run takes
effect without a new push). Prints every comparison, records the
result in ML Metadata (a `Monitor` execution whose outputs are the window's
ExampleStatistics and ExampleAnomalies) and leaves it for `make report`.

With `--truth` (the truth that arrived after the requests were served: a file in the task's
format), it also measures live accuracy: the task joins the truth to the logged requests by
their key (`TaskSpec.live_truth`), and serving/live_accuracy.py compares the deployed model's
logged predictions with its challengers' on the same joined requests, overall and by day. It
reads every request still in the log (or the last N), not only the new ones: their truth is
what arrives late. The result is printed and written to `live.json` in the run's folder.

Exit status: 0 clean, 1 anomalies (a schedule can act on it), 2 nothing to check (nothing
logged, nothing deployed, no store).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import shutil
import sys

import tasks
from components.anomaly_gate import STATISTICS_FILE
from components.curated_schema import SCHEMA_FILE
from pipeline import inspect_mlmd, mlmd, run_config
from reporting import monitoring
from serving import live_accuracy, request_log

CURSOR = "cursor.json"  # newest request time checked, and that window's statistics (for drift)
RUNS_DIR = "runs"  # one folder per monitor run: its statistics, anomalies, training statistics
TRAIN_SPLIT = "train"
EXECUTION_TYPE = "Monitor"
SCHEMA_NODE, STATISTICS_NODE = "CuratedSchemaGen", "StatisticsGen"
EXIT_CLEAN, EXIT_ANOMALIES, EXIT_USAGE = 0, 1, 2


class MonitorError(RuntimeError):
    """Nothing to check: said plainly, exit 2."""


# -- the window ---------------------------------------------------------------------------------


def read_cursor(directory: pathlib.Path) -> dict:
    path = directory / CURSOR
    return json.loads(path.read_text()) if path.exists() else {}


def select_window(task_dir: pathlib.Path, last: int | None) -> tuple[list, str]:
    """(requests, how they were chosen); MonitorError when there is none to check."""
    folder = request_log.folder(task_dir)
    cursor = read_cursor(monitoring.monitor_dir(task_dir))
    if last:
        examples, chosen = request_log.read(folder, last=last), f"the last {last} logged"
    elif cursor:
        examples = request_log.read(folder, since_ms=cursor["last_time_ms"])
        chosen = f"logged since the last monitor run ({when(cursor['last_time_ms'])})"
    else:
        examples, chosen = request_log.read(folder), "every request logged (first monitor run)"
    if not examples:
        if not request_log.read(folder, last=1):
            raise MonitorError(f"no requests logged under {folder}: serve the model (make serve) and send requests first")
        raise MonitorError(f"no request logged since the last monitor run ({when(cursor['last_time_ms'])}); "
                           "LAST=N checks the last N again")  # fmt: skip
    return examples, chosen


def when(millis: int) -> str:
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


# -- the deployed model's training data, through ML Metadata --------------------------------------


@dataclasses.dataclass
class Deployed:
    version: int
    run: str
    pushed_model: object  # the PushedModel artifact; its pushed_destination holds the served files
    schema: object  # the run's CuratedSchemaGen schema artifact
    statistics: object  # the run's StatisticsGen ExampleStatistics artifact

    @property
    def model_dir(self) -> str:
        return mlmd.custom(self.pushed_model, mlmd.PUSHED_DESTINATION) or self.pushed_model.uri

    @property
    def schema_path(self) -> str:
        return os.path.join(self.schema.uri, SCHEMA_FILE)

    @property
    def training_statistics_path(self) -> str:
        return os.path.join(self.statistics.uri, f"Split-{TRAIN_SPLIT}", STATISTICS_FILE)


def deployed(store) -> Deployed:
    """The newest pushed model, and the schema and training statistics of the run that trained it
    (for a rollback, the run that first pushed the version it re-pushed)."""
    pushed = mlmd.pushed_models(store)
    if not pushed:
        raise MonitorError("no model is deployed (no PushedModel with pushed=1 in ML Metadata): run the pipeline first")
    model = origin = pushed[-1]
    by_version = {str(mlmd.custom(p, mlmd.PUSHED_VERSION)): p for p in pushed}
    while mlmd.custom(origin, mlmd.ROLLBACK_TO) is not None:  # a rollback re-pushed an earlier version's files:
        origin = by_version.get(str(mlmd.custom(origin, mlmd.ROLLBACK_TO)), None)  # its run trained them
        if origin is None:
            raise MonitorError(f"the served version {mlmd.custom(model, mlmd.PUSHED_VERSION)} is a rollback to a version "
                               "no push recorded")  # fmt: skip
    pusher = mlmd.producer(store, origin.id)
    run_name = mlmd.run_of_execution(store, pusher.id) if pusher else None
    run = next((r for r in mlmd.runs(store) if r.name == run_name), None)
    if run is None:
        raise MonitorError(f"the deployed model {model.uri} has no pipeline run in ML Metadata")
    outputs = {(e.node, key): artifacts[0] for e in mlmd.run_executions(store, run) for key, artifacts in e.outputs.items()}
    missing = [n for n, k in ((SCHEMA_NODE, "schema"), (STATISTICS_NODE, "statistics")) if (n, k) not in outputs]
    if missing:
        raise MonitorError(f"run {run.name}, which pushed the deployed model, recorded no output of {', '.join(missing)}")
    return Deployed(mlmd.custom(model, "pushed_version"), run.name, model, outputs[(SCHEMA_NODE, "schema")],
                    outputs[(STATISTICS_NODE, "statistics")])  # fmt: skip


# -- the record: files for the report and the next run, an execution in ML Metadata ---------------


def record_in_store(store, found: Deployed, run_dir: pathlib.Path, summary: dict) -> int:
    """A `Monitor` execution: inputs the deployed model, its schema and training statistics;
    outputs the window's ExampleStatistics and ExampleAnomalies (split `serving`)."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    def artifact_type(name: str) -> int:  # TFX's definition, so the pipeline's own type is reused
        kind = pb.ArtifactType(name=name)
        kind.properties["span"] = pb.INT
        kind.properties["split_names"] = pb.STRING
        return store.put_artifact_type(kind, can_add_fields=True, can_omit_fields=True)

    def artifact(type_name: str, folder: str) -> pb.Artifact:
        made = pb.Artifact(type_id=artifact_type(type_name), uri=str(run_dir / folder), state=pb.Artifact.LIVE)
        made.properties["split_names"].string_value = json.dumps([monitoring.SPLIT])
        return made

    execution_type = pb.ExecutionType(name=EXECUTION_TYPE)
    execution = pb.Execution(type_id=store.put_execution_type(execution_type), last_known_state=pb.Execution.COMPLETE)
    for key, value in summary.items():
        field = "int_value" if isinstance(value, int) and not isinstance(value, bool) else "string_value"
        setattr(execution.custom_properties[key], field, value if field == "int_value" else
                (value if isinstance(value, str) else json.dumps(value)))  # fmt: skip
    inputs = [(found.pushed_model, mlmd.event(pb.Event.INPUT, "model")), (found.schema, mlmd.event(pb.Event.INPUT, "schema")),
              (found.statistics, mlmd.event(pb.Event.INPUT, "training_statistics"))]  # fmt: skip
    outputs = [(artifact("ExampleStatistics", "statistics"), mlmd.event(pb.Event.OUTPUT, "statistics")),
               (artifact("ExampleAnomalies", "anomalies"), mlmd.event(pb.Event.OUTPUT, "anomalies"))]  # fmt: skip
    execution_id, _, _ = store.put_execution(execution, inputs + outputs, [])
    return execution_id


def write_proto(path: pathlib.Path, message) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(message.SerializeToString())


# -- live accuracy -----------------------------------------------------------------------------------


def live_spec(task: str, truth: str):
    """The task's spec, when it can join this truth file; MonitorError otherwise (before any work)."""
    spec = tasks.spec(task)
    if not spec.live_truth:
        raise MonitorError(f"the {task} task measures no live accuracy (its TaskSpec has no live_truth): leave TRUTH out")
    if not os.path.exists(truth):
        raise MonitorError(f"TRUTH={truth}: no such file")
    return spec


def live_check(spec, config, truth: str, task_dir: pathlib.Path, last: int | None, found: Deployed) -> dict:
    """The live-accuracy summary (serving/live_accuracy.py) of the logged requests against `truth`."""
    requests = request_log.read(request_log.folder(task_dir), last=last)
    try:
        joined = spec.call("live_truth", config, truth, requests, found.model_dir)
    except (OSError, ValueError) as error:
        raise MonitorError(f"TRUTH={truth}: {error}") from None
    summary = live_accuracy.summarize(joined, [request_log.time_of(e) for e in requests])
    return {"truth": os.path.abspath(truth), "model_dir": found.model_dir,
            "selected_by": f"the last {last} logged" if last else "every request in the log", **summary}  # fmt: skip


# -- the command ------------------------------------------------------------------------------------


def monitor(task: str, output_dir: str, last: int | None = None, schema_file: str | None = None,
            truth: str | None = None, config_path: str | None = None) -> tuple[int, list[str]]:  # fmt: skip
    """Check one window (and, with `truth`, the live accuracy); (exit status, lines printed).
    MonitorError when there is nothing to check."""
    import tensorflow_data_validation as tfdv

    from components import serving_monitor
    from data import schemas

    task_dir = pathlib.Path(output_dir).resolve() / task
    spec = live_spec(task, truth) if truth else None
    examples, chosen = select_window(task_dir, last)
    store_path = inspect_mlmd.store_path(task, output_dir)
    try:
        store = mlmd.open_store(store_path, writable=True)
    except mlmd.StoreMissing as error:
        raise MonitorError(str(error)) from None
    found = deployed(store)
    schema_path = schema_file or found.schema_path
    try:
        schema = schemas.load(schema_path)
    except (OSError, ValueError) as error:
        raise MonitorError(f"cannot read the schema {schema_path}: {error}") from None
    training = tfdv.load_stats_binary(found.training_statistics_path)
    if spec is not None:  # before anything is recorded: a config or truth that cannot be read stops here
        config = run_config.resolve("monitor", task, output_dir, config_path)
        live = live_check(spec, config, truth, task_dir, last, found)
    directory = monitoring.monitor_dir(task_dir)
    cursor = read_cursor(directory)
    previous = tfdv.load_stats_binary(cursor["statistics"]) if cursor.get("statistics") and os.path.exists(cursor["statistics"]) else None
    window = serving_monitor.statistics(examples)
    verdict = serving_monitor.validate(window, schema, training, previous)

    checked_at = datetime.datetime.now(datetime.UTC)
    run_dir = directory / RUNS_DIR / checked_at.strftime("%Y%m%dT%H%M%S%fZ")
    write_proto(run_dir / monitoring.WINDOW_STATISTICS, window)
    write_proto(run_dir / monitoring.ANOMALIES, verdict.anomalies)
    shutil.copyfile(found.training_statistics_path, run_dir / monitoring.TRAINING_STATISTICS)
    times = [request_log.time_of(e) for e in examples]
    versions = sorted({e.features.feature[request_log.VERSION_FEATURE].int64_list.value[0] for e in examples
                       if e.features.feature[request_log.VERSION_FEATURE].int64_list.value})
    result = {
        "checked_at": checked_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "requests": len(examples),
        "window": {"first": when(min(times)), "last": when(max(times)), "selected_by": chosen},
        "versions": versions,
        "deployed_version": found.version,
        "deployed_run": found.run,
        "schema": schema_path,
        "skew_compared": bool(serving_monitor.thresholds(schema, "skew_comparator")),
        "training_statistics": found.training_statistics_path,
        "drift_against": cursor.get("statistics") if previous is not None else None,
        "findings": [dataclasses.asdict(f) for f in verdict.findings],
        "anomalies": verdict.lines,
        "run_dir": str(run_dir),
    }
    execution_id = record_in_store(store, found, run_dir, {
        "requests": len(examples), "anomalies": len(verdict.lines), "deployed_version": found.version,
        "window_first_ms": min(times), "window_last_ms": max(times), "selected_by": chosen,
        "anomaly_lines": verdict.lines, "schema_file": schema_path,
        **({"live_truth": live["truth"], "live_joined": live[live_accuracy.JOINED],
            "live_mean_loss": {n: m["mean"] for n, m in live["models"].items()}} if spec is not None else {})})  # fmt: skip
    result["execution_id"] = execution_id
    if spec is not None:
        (run_dir / monitoring.LIVE).write_text(json.dumps(live, indent=2))
        result["live"] = str(run_dir / monitoring.LIVE)
    (run_dir / monitoring.RESULT).write_text(json.dumps(result, indent=2))
    monitoring.result_path(task_dir).write_text(json.dumps(result, indent=2))
    (directory / CURSOR).write_text(json.dumps({"last_time_ms": max(times), "statistics": str(run_dir / monitoring.WINDOW_STATISTICS)}))
    lines = render(result, verdict) + (live_accuracy.render(live, truth) if spec is not None else [])
    return (EXIT_ANOMALIES if verdict.lines else EXIT_CLEAN), lines


def render(result: dict, verdict) -> list[str]:
    window = result["window"]
    lines = [
        f"Monitor: {result['requests']} requests, {window['selected_by']}: {window['first']} .. {window['last']}, "
        f"served by version(s) {', '.join(map(str, result['versions'])) or '?'}",
        f"Deployed: version {result['deployed_version']} (run {result['deployed_run']}); "
        f"schema {result['schema']}; training statistics {result['training_statistics']}",
    ]
    if not result["skew_compared"]:
        lines.append(f"Skew: the schema declares no skew_comparator, so no skew is measured ({result['schema']}; "
                     "SCHEMA=<file> reads a newer one)")  # fmt: skip
    if result["drift_against"] is None:
        lines.append("Drift: no previous window yet (the next run compares with this one)")
    lines += [f"  {f.line()}" for f in verdict.findings if not f.anomaly]
    if verdict.lines:
        lines.append(f"ANOMALIES ({len(verdict.lines)}):")
        lines += [f"  {line}" for line in verdict.lines]
    else:
        lines.append("No anomaly.")
    lines.append(f"Recorded: ML Metadata execution {result['execution_id']} ({EXECUTION_TYPE}); {result['run_dir']} (make report shows it)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--last", type=int, help="check the last N logged requests (default: those since the last run)")
    parser.add_argument("--schema", help="schema.pbtxt whose comparators to use (default: the deployed model's run's)")
    parser.add_argument("--truth", help="the truth that arrived since (the task's format): live accuracy of the logged requests")
    parser.add_argument("--config", help="config YAML for --truth (default: the one the run recorded, else the task's)")
    args = parser.parse_args(argv)
    if args.last is not None and args.last < 1:
        print(f"monitor: LAST must be a positive number of requests, not {args.last}", file=sys.stderr)
        return EXIT_USAGE
    try:
        status, lines = monitor(args.task, args.output_dir, args.last, args.schema, args.truth, args.config)
    except MonitorError as error:
        print(f"monitor: {error}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
