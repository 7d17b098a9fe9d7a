"""Inspect what a pipeline run left in ML Metadata (OUTPUT_DIR/<task>/metadata.sqlite).

    python -m pipeline.inspect_mlmd --task timeseries [--output-dir output] [--json] [--run RUN]

Prints the runs; for one run (default: the latest; RUN is a run name or an index such as
-2) each component with state and duration, every output artifact with type, URI and key
properties, and the Evaluator's decision (metrics, thresholds, baseline, blessed or not and
why); then every model ever pushed, and the lineage of the latest one back to its input file.
Reads the store only; works on the store of any earlier run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
from typing import Any

import tasks
from components import paired_gate
from components.evaluator import BASELINE_SKIPPED
from components.scoring import SCORES_PROPERTY
from data import spans
from pipeline import evaluation_results, mlmd, run_config, scores

# Long or bulky properties left out of the artifact listing (still in --json under "properties").
HIDDEN = {"tfx_version", "is_external", "series_report", "stats_dashboard_link", paired_gate.GATE_PROPERTY}


class InspectError(RuntimeError):
    pass


def store_path(task: str, output_dir: str) -> str:
    return str(pathlib.Path(output_dir).resolve() / task / "metadata.sqlite")


def when(millis: int) -> str:
    return datetime.datetime.fromtimestamp(millis / 1000).isoformat(sep=" ", timespec="seconds")


def select_run(runs: list, selector: str | None):
    if selector is None:
        return runs[-1]
    for run in runs:
        if run.name == selector:
            return run
    try:
        return runs[int(selector)]
    except (ValueError, IndexError):
        names = [r.name for r in runs]
        raise InspectError(f"no run '{selector}' in the store; runs: {names} (or an index, -1 = latest)") from None


def parse_eval_config(eval_config_json: str | None):
    """The Evaluator's eval_config property as an EvalConfig, or None."""
    if not eval_config_json:
        return None
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format

    return json_format.Parse(eval_config_json, tfma.EvalConfig(), ignore_unknown_fields=True)


def thresholds(eval_config_json: str | None) -> dict[str, Any]:
    """Metric name -> its threshold, from the Evaluator's eval_config."""
    from google.protobuf import json_format

    config = parse_eval_config(eval_config_json)
    if config is None:
        return {}
    found = {}
    for spec in config.metrics_specs:
        for metric in spec.metrics:
            threshold = metric.threshold if metric.HasField("threshold") else None
            if threshold is None and metric.per_slice_thresholds:  # gated on the overall slice only
                threshold = metric.per_slice_thresholds[0].threshold
            if threshold is not None:
                name = json.loads(metric.config).get("name", metric.class_name) if metric.config else metric.class_name
                found[name] = json_format.MessageToDict(threshold)
    return found


def transform_classes(executions: list[mlmd.ExecutionInfo]) -> list[str]:
    """The class names of a run's Transform (its label vocabulary), or [] (no classes, no Transform)."""
    transform = next((e for e in executions if e.outputs.get("transform_graph")), None)
    return evaluation_results.class_names(transform.outputs["transform_graph"][0].uri if transform else None)


def evaluation(store, info: mlmd.ExecutionInfo, classes: list[str] = (), spec=None) -> dict[str, Any]:
    """Metrics, thresholds, baseline and blessing of one Evaluator execution; per-class metrics
    are named by `classes`; every threshold is also given as a rule in words (`rules`) and every
    failure as a line naming its value and bound (`failure_lines`)."""

    decision: dict[str, Any] = {"state": info.state}
    inputs = mlmd.execution_inputs(store, info.execution.id)
    baseline = inputs.get("baseline_model") or []
    decision["candidate_model"] = (inputs.get("model") or [None])[0].uri if inputs.get("model") else None
    decision["baseline_model"] = baseline[0].uri if baseline else None
    decision["thresholds"] = thresholds(mlmd.properties(info.execution).get("eval_config"))
    decision["baseline_line"] = baseline_line(decision)
    if not info.outputs.get("blessing"):
        return decision
    blessing = info.outputs["blessing"][0]
    # The gate's verdict: a rollback (pipeline/rollback.py) may revoke the blessing later, which
    # changes what later runs compare with, not what this gate decided.
    revoked = mlmd.custom(blessing, mlmd.REVOKED_BY_ROLLBACK)
    decision["blessed"] = mlmd.custom(blessing, "blessed") == 1 or revoked is not None
    decision["revoked_by_rollback"] = json.loads(revoked) if revoked else None
    # The deployed model could not read this run's examples (components/evaluator.py).
    decision["baseline_skipped"] = mlmd.custom(blessing, BASELINE_SKIPPED)
    decision["baseline_line"] = baseline_line(decision)
    compared = bool(baseline) and not decision["baseline_skipped"]
    if not info.outputs.get("evaluation"):  # a gate of the task's own, without TFMA (acting, for decision)
        raw = mlmd.custom(info.outputs["scores"][0], SCORES_PROPERTY) if info.outputs.get("scores") else None
        if spec is None or not spec.verdict:
            raise InspectError(f"the Evaluator of this run wrote no TFMA evaluation, and task {spec and spec.name} reads no other")
        decision.update(spec.call("verdict", json.loads(raw) if raw else {}))
        return decision
    results = evaluation_results.read_evaluation(info.outputs["evaluation"][0].uri, compared, classes)
    decision.update(results)
    eval_config = parse_eval_config(mlmd.properties(info.execution).get("eval_config"))
    challenger = evaluation_results.challenger_of(eval_config) if eval_config is not None else None
    decision["why"] = evaluation_results.verdict(
        decision["blessed"], results["failures"], compared, results["metrics"], challenger
    )
    decision["rules"] = {n: evaluation_results.rule(n, t, challenger) for n, t in decision["thresholds"].items()}
    decision["failure_lines"] = [
        evaluation_results.failure_line(f, results["metrics"], decision["thresholds"], challenger)
        for f in results["failures"]
    ]
    judged = mlmd.custom(blessing, paired_gate.GATE_PROPERTY)
    if judged:
        decision.update(paired_decision(json.loads(judged), results["failures"], decision))
    return decision


def paired_decision(judged: dict, tfma_failures: list, decision: dict) -> dict[str, Any]:
    """The paired gate's verdicts (components/paired_gate.py) as the decision shows them: `gate`
    and `transformer_gain` as in its JSON, each comparison in words (`gate_lines`), what the
    deployed model is (`statement`), and why it was (not) blessed."""
    if decision["blessed"]:
        why = "every paired rule passed"
        if paired_gate.DEPLOYED not in judged["gate"]:
            why += " (no deployed model compared: " + ("it could not be" if decision.get("baseline_skipped") else "first blessed model") + ")"
    else:
        why = "; ".join(judged["reasons"] + ([decision["why"]] if tfma_failures else [])) or decision["why"]
    return {
        "gate": judged["gate"],
        "gate_unit": judged["unit"],
        "gate_lines": judged["lines"],
        "transformer_gain": judged.get("transformer_gain"),
        "statement": judged.get("statement"),
        "why": why,
    }


def gate_lines(decision: dict[str, Any]) -> list[str]:
    """The paired gate's comparisons in words (gain of the candidate, 95 % interval, rule) and
    what the transformer added to its start."""
    if not decision.get("gate_lines"):
        return []
    lines = [f"  gate (paired, 95 % intervals; gain of the candidate, {decision['gate_unit']}):"]
    lines += [f"    {line}" for line in decision["gate_lines"]]
    if decision.get("statement"):
        lines.append(f"  {decision['statement']}")
    return lines


def revoked_lines(revoked: dict | None, indent: str = "  ") -> list[str]:
    """What a rollback did to a blessing: {"at", "to_version", "served_as"} in words, or nothing."""
    if not revoked:
        return []
    return [f"{indent}blessing revoked {revoked['at']} by the rollback to version {revoked['to_version']} "
            f"(served as {revoked['served_as']}): later runs do not compare with this model"]  # fmt: skip


def baseline_line(decision: dict[str, Any]) -> str:
    if decision.get("baseline_skipped"):
        return decision["baseline_skipped"]
    return decision["baseline_model"] or "none (no previously blessed model)"


def task_spec(task: str | None, metadata_path: str | None = None):
    """The task's TaskSpec (how its gate and scores read), or None when the task is not known.
    Without `task`, the store's folder names it: OUTPUT_DIR/<task>/metadata.sqlite."""
    import tasks

    task = task or (pathlib.Path(metadata_path).parent.name if metadata_path else None)
    return tasks.spec(task) if task in tasks.REGISTRY else None


def collect(path: str, run_selector: str | None = None, task: str | None = None) -> dict[str, Any]:
    """Everything the CLI prints, as plain data; `task` (default: the store's folder) says how
    its gate and scores read."""
    spec = task_spec(task, path)
    task = spec.name if spec else task
    try:
        store = mlmd.open_store(path)
        runs = mlmd.runs(store)
    except mlmd.StoreMissing as error:
        raise InspectError(str(error)) from None
    except RuntimeError as error:  # an empty or foreign SQLite file: MLMD cannot read its tables
        raise InspectError(f"{path} is not a readable ML Metadata store ({str(error)[:80]}...)") from None
    if not runs:
        raise InspectError(f"ML Metadata store {path} has no pipeline runs: run the pipeline first (make run-local)")
    types = mlmd.artifact_type_names(store)
    report: dict[str, Any] = {"store": path, "task": task, "runs": []}
    for run in runs:
        executions = mlmd.run_executions(store, run)
        states: dict[str, int] = {}
        for e in executions:
            states[e.state] = states.get(e.state, 0) + 1
        report["runs"].append({"name": run.name, "started": when(run.create_time_since_epoch), "states": states})
    run = select_run(runs, run_selector)
    executions = mlmd.run_executions(store, run)
    report["run"] = run.name
    report["data"] = data_line(executions)
    report["components"] = [
        {"node": e.node, "state": e.state, "seconds": round(e.seconds, 1), "started": when(e.execution.create_time_since_epoch)}
        for e in executions
    ]
    report["artifacts"] = [
        {"node": e.node, "key": key, "id": a.id, "type": types[a.type_id], "uri": a.uri,
         "properties": mlmd.properties(a)}  # fmt: skip
        for e in executions
        for key, artifacts in e.outputs.items()
        for a in artifacts
    ]
    evaluator = next((e for e in executions if e.node == "Evaluator"), None)
    report["evaluation"] = evaluation(store, evaluator, transform_classes(executions), spec) if evaluator else None
    found = scores.of_run(executions)
    report["scores_key"] = found[0] if found else None
    if found:
        report[found[0]] = found[1]
    pushed = mlmd.pushed_models(store)
    report["pushed_models"] = []
    for artifact in pushed:
        pusher = mlmd.producer(store, artifact.id)
        report["pushed_models"].append({
            "version": mlmd.custom(artifact, mlmd.PUSHED_VERSION),
            "destination": mlmd.custom(artifact, mlmd.PUSHED_DESTINATION),
            "run": mlmd.run_of_execution(store, pusher.id) if pusher else None,
            "pushed_at": when(artifact.create_time_since_epoch),
            "rollback_to": mlmd.custom(artifact, mlmd.ROLLBACK_TO),  # None: pushed by the Pusher
            "rollback_of": mlmd.custom(artifact, mlmd.ROLLBACK_OF),
        })  # fmt: skip
    report["lineage"] = []
    if pushed:
        for step in mlmd.lineage(store, pushed[-1]):
            entry = {"type": step.type_name, "uri": step.artifact.uri, "producer": step.node,
                     "other_inputs": step.other_inputs}  # fmt: skip
            source = mlmd.custom(step.artifact, "source")
            if source:
                entry["source"] = source
            report["lineage"].append(entry)
    return report


def data_line(executions: list[mlmd.ExecutionInfo]) -> str | None:
    """"Data: spans 0..2 (3 spans) of <pattern>, newest span 2 version 1": what the run's
    ExampleGen read (its Examples' `spans`, `span` and `version`), or None without spans."""
    generator = next((e for e in executions if e.node == "ExampleGen"), None)
    found = generator.outputs.get("examples", []) if generator else []
    return examples_line(found[0]) if found else None


def examples_line(examples) -> str | None:
    """The data line of one ExampleGen Examples artifact (see data_line), or None without spans."""
    if mlmd.custom(examples, spans.SPANS_PROPERTY) is None:
        return None
    values = mlmd.properties(examples)
    read = json.loads(values[spans.SPANS_PROPERTY])
    version = f" version {values['version']}" if "version" in values else ""
    return f"Data: spans {spans.numbers(read)} of {values[spans.SPAN_PATTERN_PROPERTY]}, newest span {values['span']}{version}"


def short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render(report: dict[str, Any]) -> str:
    lines = [f"ML Metadata: {report['store']}"]
    if report.get("config_file"):
        lines.append(f"Config of the newest run: {report['config_file']}")
    lines += ["", "Runs:"]
    for run in report["runs"]:
        marker = "*" if run["name"] == report["run"] else " "
        states = ", ".join(f"{n} {s}" for s, n in sorted(run["states"].items()))
        lines.append(f" {marker} {run['name']}  started {run['started']}  ({states})")
    if report.get("data"):
        lines += ["", report["data"]]
    lines += ["", f"Components of run {report['run']} (state, seconds):"]
    lines += [f"  {c['node']:28s} {c['state']:9s} {c['seconds']:7.1f}" for c in report["components"]]
    lines += ["", "Artifacts:"]
    for a in report["artifacts"]:
        lines.append(f"  {a['node']}.{a['key']}  [{a['type']}] id={a['id']}")
        lines.append(f"      {a['uri']}")
        shown = {k: v for k, v in a["properties"].items() if k not in HIDDEN}
        if shown:
            lines.append("      " + ", ".join(f"{k}={short(v)}" for k, v in sorted(shown.items())))
    decision = report["evaluation"]
    lines.append("")
    if decision is None:
        lines.append("Evaluator: did not run in this run")
    elif "blessed" not in decision:
        lines.append(f"Evaluator: {decision['state']}, no blessing recorded")
    else:
        lines.append(f"Evaluator: {'BLESSED' if decision['blessed'] else 'NOT blessed'} ({decision['why']})")
        lines.append(f"  candidate: {decision['candidate_model']}")
        lines.append(f"  baseline:  {baseline_line(decision)}")
        for role, values in decision["metrics"].items():
            for name, value in sorted(values.items()):
                lines.append(f"  {role:9s} {name} = {value:.4f}" if value is not None else f"  {role:9s} {name}")
        for name, rule in (decision.get("rules") or {}).items():
            lines.append(f"  rule {name}: {rule}")
        lines += [f"  {line}" for line in decision.get("failure_lines", [])]
        lines += gate_lines(decision)
        lines += revoked_lines(decision.get("revoked_by_rollback"))
    if report.get("scores_key"):
        lines += ["", *scores.lines(report["scores_key"], report[report["scores_key"]], task_spec(report.get("task")))]
    lines += ["", "Pushed models (oldest first):"]
    if not report["pushed_models"]:
        lines.append("  none: no model is deployed (see 'When nothing is deployed' in the README)")
    for model in report["pushed_models"]:
        if model.get("rollback_to"):  # pipeline/rollback.py: an earlier version's files under a new number
            replaced = f", replacing version {model['rollback_of']}" if model.get("rollback_of") else ""
            lines.append(f"  version {model['version']} (rollback to {model['rollback_to']}{replaced})  {model['destination']}  ({model['pushed_at']})")
        else:
            lines.append(f"  version {model['version']}  {model['destination']}  (run {model['run']}, {model['pushed_at']})")
    if report["lineage"]:
        lines += ["", "Lineage of the latest pushed model:"]
        for depth, step in enumerate(report["lineage"]):
            producer = f" <- {step['producer']}" if step["producer"] else " (imported)"
            lines.append(f"  {'  ' * depth}{step['type']}{producer}: {step['uri']}")
            if step.get("source"):
                lines.append(f"  {'  ' * depth}  source file: {step['source']}")
            if step["other_inputs"]:
                lines.append(f"  {'  ' * depth}  other inputs: {', '.join(sorted(step['other_inputs']))}")
    return "\n".join(lines)


def recorded_config(task: str, output_dir: str) -> str | None:
    """The resolved config the newest run recorded (pipeline/run_config.py), or None."""
    path = run_config.run_config_path(task, output_dir)
    return str(path) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--run", help="run name or index (default: -1, the latest)")
    args = parser.parse_args(argv)
    try:
        report = collect(store_path(args.task, args.output_dir), args.run, args.task)
    except InspectError as error:
        print(f"inspect: {error}", file=sys.stderr)
        return 1
    report["config_file"] = recorded_config(args.task, args.output_dir)
    report["config"] = run_config.recorded(args.task, args.output_dir)
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
