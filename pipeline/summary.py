"""The end-of-run summary: per-component times, the blessing decision and why, the push."""
from __future__ import annotations

from pipeline import inspect_mlmd, mlmd, scores

NOTHING_DEPLOYED = (
    "Pushed: nothing, and no model is deployed yet: no candidate has beaten every challenger. "
    "See 'When nothing is deployed' in the README."
)


def evaluation_lines(store, evaluator: mlmd.ExecutionInfo) -> list[str]:
    """The verdict and why, the baseline, every metric by model role, every failed threshold."""
    decision = inspect_mlmd.evaluation(store, evaluator)
    lines = [f"Evaluator: {'BLESSED' if decision['blessed'] else 'NOT blessed'} ({decision['why']})"]
    if decision["baseline_skipped"]:
        lines.append(f"  baseline: {decision['baseline_skipped']}")
    lines += [
        f"  {role:9s} {name} = {value:.4f}" if value is not None else f"  {role:9s} {name}"
        for role, values in decision["metrics"].items()
        for name, value in values.items()
    ]
    lines += [f"  FAILED {f['metric']}: {f['message'] or 'threshold not met'}" for f in decision["failures"]]
    return lines


def summarize(metadata_path: str) -> str:
    store = mlmd.open_store(metadata_path)
    run = mlmd.runs(store)[-1]
    executions = mlmd.run_executions(store, run)
    lines = [f"Run {run.name}", "Components (state, seconds):"]
    lines += [f"  {e.node:28s} {e.state:9s} {e.seconds:7.1f}" for e in executions]
    by_node = {e.node: e for e in executions}
    evaluator, pusher = by_node.get("Evaluator"), by_node.get("Pusher")
    if evaluator and evaluator.outputs.get("blessing"):
        lines += evaluation_lines(store, evaluator)
    found = scores.of_run(executions)
    if found:
        lines += scores.lines(*found)
    if pusher and pusher.outputs.get("pushed_model"):
        pushed = pusher.outputs["pushed_model"][0]
        if mlmd.custom(pushed, "pushed") == 1:
            lines.append(f"Pushed: {mlmd.custom(pushed, 'pushed_destination')}")
        elif not mlmd.pushed_models(store):
            lines.append(NOTHING_DEPLOYED)
        else:
            lines.append("Pushed: nothing (model not blessed); the deployed model is unchanged")
    return "\n".join(lines)
