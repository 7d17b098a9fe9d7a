"""The end-of-run summary: per-component times, the blessing decision and why, the push."""
from __future__ import annotations

from pipeline import inspect_mlmd, mlmd, scores

NOTHING_DEPLOYED = (
    "Pushed: nothing, and no model is deployed yet: no candidate has passed the gate's rules. "
    "See 'When nothing is deployed' in the README."
)


BOTH, FULL, TERMINAL = "both", "full", "terminal"  # where a summary line is shown


def is_sliced(name: str) -> bool:
    """A metric of a slice (`accuracy{length_bucket=long}`), not of the whole eval split."""
    return "{" in name


def evaluation_lines(decision: dict) -> list[tuple[str, str]]:
    """(line, where): the verdict and why, the baseline, every metric by model role (with a paired
    gate, whose comparisons say the decision, all of them in the full summary only; otherwise
    those of slices, counted on the terminal), every failed threshold with its value and bound,
    and the paired gate's comparisons."""
    lines = [(f"Evaluator: {'BLESSED' if decision['blessed'] else 'NOT blessed'} ({decision['why']})", BOTH)]
    if decision["baseline_skipped"]:
        lines.append((f"  baseline: {decision['baseline_skipped']}", BOTH))
    hidden, paired = 0, bool(decision.get("gate_lines"))
    for role, values in decision["metrics"].items():
        for name, value in values.items():
            shown_in_full = paired or is_sliced(name)
            hidden += shown_in_full
            text = f"  {role:9s} {name} = {value:.4f}" if value is not None else f"  {role:9s} {name}"
            lines.append((text, FULL if shown_in_full else BOTH))
    if hidden:
        what = "TFMA's metrics" if paired else "metrics of slices"
        lines.append((f"  ({hidden} {what}: make inspect, make report, or the full log)", TERMINAL))
    lines += [(f"  {line}", BOTH) for line in decision.get("failure_lines", [])]
    return lines + [(line, BOTH) for line in inspect_mlmd.gate_lines(decision)]


def summaries(metadata_path: str, task: str | None = None) -> tuple[str, str]:
    """(terminal, full): the end-of-run summary, read from the store once; the terminal's leaves
    out the metrics of slices. `task` says how its gate and scores read."""
    spec = inspect_mlmd.task_spec(task, metadata_path)
    store = mlmd.open_store(metadata_path)
    run = mlmd.runs(store)[-1]
    executions = mlmd.run_executions(store, run)
    lines = [f"Run {run.name}", *filter(None, [inspect_mlmd.data_line(executions)]), "Components (state, seconds):"]
    lines += [f"  {e.node:28s} {e.state:9s} {e.seconds:7.1f}" for e in executions]
    entries = [(line, BOTH) for line in lines]
    by_node = {e.node: e for e in executions}
    evaluator, pusher = by_node.get("Evaluator"), by_node.get("Pusher")
    if evaluator and evaluator.outputs.get("blessing"):
        decision = inspect_mlmd.evaluation(store, evaluator, inspect_mlmd.transform_classes(executions), spec)
        entries += evaluation_lines(decision)
    lines = []
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
    entries += [(line, BOTH) for line in lines]
    return tuple("\n".join(line for line, where in entries if where in (BOTH, view)) for view in (TERMINAL, FULL))


def summarize(metadata_path: str, slices: bool = True, task: str | None = None) -> str:
    """The end-of-run summary; `slices=False` (the terminal's) leaves out the metrics of slices."""
    terminal, full = summaries(metadata_path, task)
    return full if slices else terminal
