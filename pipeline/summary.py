"""The end-of-run summary: per-component times, the blessing decision and why, the push."""
from __future__ import annotations

from pipeline import inspect_mlmd, mlmd, scores

NOTHING_DEPLOYED = (
    "Pushed: nothing, and no model is deployed yet: no candidate has beaten every challenger. "
    "See 'When nothing is deployed' in the README."
)


def is_sliced(name: str) -> bool:
    """A metric of a slice (`accuracy{length_bucket=long}`), not of the whole eval split."""
    return "{" in name


def evaluation_lines(
    store, evaluator: mlmd.ExecutionInfo, classes: list[str] = (), slices: bool = True, spec=None
) -> list[str]:
    """The verdict and why, the baseline, every metric by model role (slices only when `slices`),
    every failed threshold with its value and bound."""
    decision = inspect_mlmd.evaluation(store, evaluator, classes, spec)
    lines = [f"Evaluator: {'BLESSED' if decision['blessed'] else 'NOT blessed'} ({decision['why']})"]
    if decision["baseline_skipped"]:
        lines.append(f"  baseline: {decision['baseline_skipped']}")
    shown = 0
    for role, values in decision["metrics"].items():
        for name, value in values.items():
            if is_sliced(name) and not slices:
                continue
            shown += 1
            lines.append(f"  {role:9s} {name} = {value:.4f}" if value is not None else f"  {role:9s} {name}")
    hidden = sum(len(v) for v in decision["metrics"].values()) - shown
    if hidden:
        lines.append(f"  ({hidden} metrics of slices: make report, or the full log)")
    lines += [f"  {line}" for line in decision.get("failure_lines", [])]
    return lines


def summarize(metadata_path: str, slices: bool = True, task: str | None = None) -> str:
    """The end-of-run summary; `slices=False` (the terminal) leaves out the metrics of slices;
    `task` says how its gate and scores read."""
    spec = inspect_mlmd.task_spec(task, metadata_path)
    store = mlmd.open_store(metadata_path)
    run = mlmd.runs(store)[-1]
    executions = mlmd.run_executions(store, run)
    lines = [f"Run {run.name}", "Components (state, seconds):"]
    lines += [f"  {e.node:28s} {e.state:9s} {e.seconds:7.1f}" for e in executions]
    by_node = {e.node: e for e in executions}
    evaluator, pusher = by_node.get("Evaluator"), by_node.get("Pusher")
    if evaluator and evaluator.outputs.get("blessing"):
        lines += evaluation_lines(store, evaluator, inspect_mlmd.transform_classes(executions), slices, spec)
    found = scores.of_run(executions)
    if found:
        lines += scores.lines(*found, spec)
    if pusher and pusher.outputs.get("pushed_model"):
        pushed = pusher.outputs["pushed_model"][0]
        if mlmd.custom(pushed, "pushed") == 1:
            lines.append(f"Pushed: {mlmd.custom(pushed, 'pushed_destination')}")
        elif not mlmd.pushed_models(store):
            lines.append(NOTHING_DEPLOYED)
        else:
            lines.append("Pushed: nothing (model not blessed); the deployed model is unchanged")
    return "\n".join(lines)
