"""Every model version pushed for a task, the evidence it was blessed on, and which one is served.

    python -m pipeline.models --task timeseries [--output-dir output] [--json]

A version is a PushedModel in ML Metadata with `pushed` == 1: the Pusher's, or a rollback's
(pipeline/rollback.py re-pushes an earlier version's files under a new, higher number). For
each, oldest first: the run that trained and judged its model, the data that run saw (the
ExampleGen's `source`, and its `spans`/`span` when it read spans), the gate's verdicts (as
`make inspect` reads them: inspect_mlmd.evaluation), whether its blessing still stands (a
rollback revokes the blessings of the models after the one it goes back to, so that the next
run compares its candidate with the model served), and when it was pushed. The version served
is the newest numeric folder under the serving directory: what the server and `make predict`
load (serving/serving_model.py). Reads the store only.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from ml_metadata.proto import metadata_store_pb2

import tasks
from components.export import serving_versions
from components.resolvers import BLESSED
from data import spans
from pipeline import inspect_mlmd, mlmd

Artifact = metadata_store_pb2.Artifact


@dataclasses.dataclass
class Version:
    """One pushed version: its PushedModel and what the execution that pushed it read."""

    number: int
    pushed: Artifact  # the PushedModel
    model: Artifact  # the Model whose files were pushed
    blessing: Artifact | None  # the ModelBlessing the push was allowed by
    pusher: metadata_store_pb2.Execution | None  # the Pusher's or the rollback's execution

    @property
    def blessed(self) -> bool:
        """True while the blessing stands: TFX's resolvers take the model as a baseline only then."""
        return self.blessing is not None and mlmd.custom(self.blessing, BLESSED) == 1

    @property
    def revoked(self) -> dict | None:
        """What revoked the blessing ({"at", "to_version", "served_as"}), or None."""
        found = mlmd.custom(self.blessing, mlmd.REVOKED_BY_ROLLBACK) if self.blessing is not None else None
        return json.loads(found) if found and not self.blessed else None

    @property
    def rollback_to(self) -> int | None:
        """The version whose files this one re-pushed; None: pushed by the Pusher."""
        found = mlmd.custom(self.pushed, mlmd.ROLLBACK_TO)
        return int(found) if found else None

    @property
    def rollback_of(self) -> int | None:
        found = mlmd.custom(self.pushed, mlmd.ROLLBACK_OF)
        return int(found) if found else None


def pushed_versions(store) -> list[Version]:
    """Every pushed version, oldest first (a PushedModel without a version number is skipped)."""
    found = []
    for artifact in mlmd.pushed_models(store):
        number = mlmd.custom(artifact, mlmd.PUSHED_VERSION)
        pusher = mlmd.producer(store, artifact.id)
        inputs = mlmd.execution_inputs(store, pusher.id) if pusher else {}
        if number is None or not str(number).isdigit() or not inputs.get("model"):
            continue
        blessing = (inputs.get("model_blessing") or [None])[0]
        found.append(Version(int(number), artifact, inputs["model"][0], blessing, pusher))
    return found


def served_version(serving_dir: str) -> int | None:
    """The version served: the newest complete (numeric) folder, as serving/serving_model.py loads it."""
    found = serving_versions(serving_dir)
    return found[-1] if found else None


def judged_in(store, blessing: Artifact, spec=None) -> tuple[str | None, dict[str, Any] | None]:
    """(the run whose Evaluator wrote `blessing`, that Evaluator's decision as `make inspect` shows
    it); `spec`, the task's TaskSpec, says how a gate without TFMA reads."""
    evaluator = mlmd.producer(store, blessing.id)
    run_name = mlmd.run_of_execution(store, evaluator.id) if evaluator else None
    run = next((r for r in mlmd.runs(store) if r.name == run_name), None)
    if run is None:
        return run_name, None
    executions = mlmd.run_executions(store, run)
    info = next(e for e in executions if e.execution.id == evaluator.id)
    try:
        return run_name, inspect_mlmd.evaluation(store, info, inspect_mlmd.transform_classes(executions), spec)
    except Exception as error:  # noqa: BLE001  (an old run's evaluation files may be gone: the rest still shows)
        blessed = mlmd.custom(blessing, BLESSED) == 1 or mlmd.REVOKED_BY_ROLLBACK in blessing.custom_properties
        return run_name, {"blessed": blessed, "error": f"{type(error).__name__}: {error}"[:200]}


def data_seen(store, version: Version) -> dict[str, Any]:
    """The data the model was trained on: the ExampleGen's Examples at the end of its lineage."""
    steps = mlmd.lineage(store, version.pushed)
    examples = next((s.artifact for s in steps if s.node == "ExampleGen"), None)
    if examples is None:
        return {}
    read = mlmd.custom(examples, spans.SPANS_PROPERTY)
    return {
        "source": mlmd.custom(examples, "source"),
        "spans": json.loads(read) if read else None,
        "span": mlmd.custom(examples, "span") if read else None,
        "line": inspect_mlmd.examples_line(examples),
    }


def describe(store, version: Version, served: int | None, spec=None) -> dict[str, Any]:
    run, decision = judged_in(store, version.blessing, spec) if version.blessing is not None else (None, None)
    return {
        "version": version.number,
        "served": version.number == served,
        "pushed_at": inspect_mlmd.when(version.pushed.create_time_since_epoch),
        "destination": mlmd.custom(version.pushed, mlmd.PUSHED_DESTINATION),
        "rollback_to": version.rollback_to,
        "rollback_of": version.rollback_of,
        "model": version.model.uri,
        "run": run,
        "data": data_seen(store, version),
        "blessed": version.blessed,
        "revoked": version.revoked,
        "gate": decision,
    }


def collect(metadata_path: str, serving_dir: str, task: str | None = None) -> dict[str, Any]:
    """Everything the CLI prints, as plain data."""
    spec = inspect_mlmd.task_spec(task, metadata_path)
    try:
        store = mlmd.open_store(metadata_path)
        versions = pushed_versions(store)
    except mlmd.StoreMissing as error:
        raise inspect_mlmd.InspectError(str(error)) from None
    served = served_version(serving_dir)
    report = {"store": metadata_path, "serving_dir": serving_dir, "task": spec.name if spec else task, "served": served}
    report["versions"] = [describe(store, v, served, spec) for v in versions]
    report["served_unrecorded"] = served is not None and served not in {v.number for v in versions}
    return report


def version_lines(entry: dict[str, Any]) -> list[str]:
    head = f"  version {entry['version']}"
    if entry["rollback_to"]:
        replaced = f", replacing version {entry['rollback_of']}" if entry["rollback_of"] else ""
        head += f" (rollback to {entry['rollback_to']}{replaced})"
    head += f"  pushed {entry['pushed_at']}" + ("  <- SERVED" if entry["served"] else "")
    lines = [head, f"    model {entry['model']}" + (f" (run {entry['run']})" if entry["run"] else "")]
    data = entry["data"]
    if data.get("source") or data.get("line"):
        read = data["line"].removeprefix("Data: ") if data.get("line") else None
        lines.append(f"    data: {data.get('source') or '?'}" + (f" ({read})" if read else ""))
    decision = entry["gate"]
    if decision is None:
        lines.append("    gate: no blessing recorded")
    elif "error" in decision:
        lines.append(f"    gate: {'blessed' if decision['blessed'] else 'not blessed'} (its evaluation is unreadable: {decision['error']})")
    else:
        lines.append(f"    gate: {'BLESSED' if decision['blessed'] else 'NOT blessed'} ({decision.get('why', '')})")
        lines += [f"      {line}" for line in decision.get("gate_lines") or []]
    return lines + inspect_mlmd.revoked_lines(entry["revoked"], indent="    ")


def render(report: dict[str, Any]) -> str:
    lines = [f"Model versions of '{report['task']}' (ML Metadata: {report['store']}), oldest first:"]
    if not report["versions"]:
        lines.append("  none: no model was pushed (see 'When nothing is deployed' in the README)")
    for entry in report["versions"]:
        lines += version_lines(entry)
    lines.append("")
    served = report["served"]
    if served is None:
        lines.append(f"Served: nothing (no version under {report['serving_dir']})")
    else:
        lines.append(f"Served: version {served} ({os.path.join(report['serving_dir'], str(served))})")
        if report["served_unrecorded"]:
            lines.append("  ML Metadata records no push of it: it was not written by this pipeline's Pusher or a rollback")
    lines.append("Roll back: make rollback [VERSION=<version>] (docs/serving.md#versions-and-rollback)")
    return "\n".join(lines)


def paths(task: str, output_dir: str) -> tuple[str, str]:
    """(the store, the serving directory) of a task under OUTPUT_DIR."""
    from pipeline.config import load_config

    config = load_config(task, output_dir=output_dir)
    return config.metadata_path, config.serving_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    try:
        report = collect(*paths(args.task, args.output_dir), args.task)
    except (inspect_mlmd.InspectError, FileNotFoundError, ValueError) as error:
        print(f"models: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
