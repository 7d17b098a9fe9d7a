"""Read an Evaluator output: metrics by model role and slice, failed thresholds, the verdict.

One reader for the end-of-run summary, `make inspect` and `make report`.
"""
from __future__ import annotations

from typing import Any

import tensorflow_model_analysis as tfma

OVERALL = "overall"


def slice_name(slice_key) -> str:
    """`overall`, or `column=value` for each part of a slice key."""
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        parts.append(f"{single.column}={value.decode() if isinstance(value, bytes) else value}")
    return ",".join(parts) or OVERALL


def metric_name(key, slice_label: str = OVERALL) -> str:
    """`name`, with `[output]`, `[class k]` and `{slice}` where they apply."""
    name = key.name
    if key.output_name:
        name += f"[{key.output_name}]"
    if key.HasField("sub_key") and key.sub_key.HasField("class_id"):
        name += f"[class {key.sub_key.class_id.value}]"
    if slice_label != OVERALL:
        name += f"{{{slice_label}}}"
    return name


def read_evaluation(uri: str, has_baseline: bool) -> dict[str, Any]:
    """{"metrics": {role: {name: value}}, "failures": [{"metric", "message"}]}; role is
    candidate, baseline or diff (candidate minus baseline)."""
    metrics: dict[str, dict[str, float | None]] = {}
    for slice_metrics in tfma.load_metrics(uri):
        label = slice_name(slice_metrics.slice_key)
        for item in slice_metrics.metric_keys_and_values:
            key = item.key
            role = "diff" if key.is_diff else ("baseline" if has_baseline and key.model_name == "baseline" else "candidate")
            value = item.value.double_value.value if item.value.HasField("double_value") else None
            metrics.setdefault(role, {})[metric_name(key, label)] = value
    failures = [
        {"metric": metric_name(failure.metric_key, slice_name(per_slice.slice_key)), "message": failure.message.strip()}
        for per_slice in tfma.load_validation_result(uri).metric_validations_per_slice
        for failure in per_slice.failures
    ]
    return {"metrics": metrics, "failures": failures}


def reason(failure: dict, candidate: dict[str, float | None], challenger: str = "in-run baseline") -> str:
    """Why one threshold failed; a challenger's ratio names the challenger and both MAEs, a
    classifier's margin names its `challenger` (the EvalConfig's description) and both accuracies."""
    from components import classifier_metrics
    from components.timeseries import forecast_metrics

    if failure["metric"].startswith(classifier_metrics.ACCURACY_OVER_BASELINE):
        ours = candidate.get(classifier_metrics.ACCURACY_OVER_BASELINE)
        theirs = candidate.get(classifier_metrics.BASELINE_ACCURACY)
        figures = f": eval accuracy {theirs + ours:.4f} vs {theirs:.4f}" if None not in (ours, theirs) else ""
        return f"stopped by the {challenger}{figures}"
    challenger = forecast_metrics.ratio_challenger(failure["metric"])
    if challenger is None:
        return f"{failure['metric']}: {failure['message'] or 'threshold not met'}"
    ours = candidate.get(forecast_metrics.FORECAST_MAE)
    theirs = candidate.get(forecast_metrics.challenger_metric(challenger, "mae"))
    figures = f": eval MAE {ours:.4f} vs {theirs:.4f}" if None not in (ours, theirs) else ""
    return f"stopped by the {challenger} challenger{figures}"


def verdict(
    blessed: bool, failures: list[dict], has_baseline: bool, metrics: dict | None = None, challenger: str | None = None
) -> str:
    if blessed:
        return "every threshold passed" + ("" if has_baseline else " (no baseline: first blessed model)")
    candidate = (metrics or {}).get("candidate", {})
    return "; ".join(reason(f, candidate, challenger or "in-run baseline") for f in failures) or "validation failed"


def challenger_of(eval_config) -> str | None:
    """The classifier challenger's description in an EvalConfig (its BaselineAgreement metrics'
    `challenger`), or None."""
    import json

    from components import classifier_metrics

    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            if metric.module == classifier_metrics.__name__ and metric.config:
                return json.loads(metric.config).get("challenger")
    return None
