"""The end-of-run summary: per-component times, the blessing decision and why, the push."""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from pipeline import mlmd


def evaluation_lines(uri: str) -> list[str]:
    """Metrics per output and every threshold that failed, from an Evaluator output."""
    lines = []
    for slice_metrics in tfma.load_metrics(uri):
        for key in slice_metrics.metric_keys_and_values:
            name = key.key.name
            model = "baseline" if key.key.is_diff is False and key.key.model_name == "baseline" else "candidate"
            if key.key.is_diff:
                model = "diff"
            value = key.value.double_value.value
            output = f" [{key.key.output_name}]" if key.key.output_name else ""
            lines.append(f"  {model:9s} {name}{output} = {value:.4f}")
    validation = tfma.load_validation_result(uri)
    for per_slice in validation.metric_validations_per_slice:
        for failure in per_slice.failures:
            lines.append(f"  FAILED {failure.metric_key.name}: {failure.message.strip()}")
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
        blessed = mlmd.custom(evaluator.outputs["blessing"][0], "blessed") == 1
        lines.append(f"Evaluator: {'BLESSED' if blessed else 'NOT blessed'}")
        lines += evaluation_lines(evaluator.outputs["evaluation"][0].uri)
    if pusher and pusher.outputs.get("pushed_model"):
        pushed = pusher.outputs["pushed_model"][0]
        if mlmd.custom(pushed, "pushed") == 1:
            lines.append(f"Pushed: {mlmd.custom(pushed, 'pushed_destination')}")
        else:
            lines.append("Pushed: nothing (model not blessed); the deployed model is unchanged")
    return "\n".join(lines)
