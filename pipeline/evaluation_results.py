"""Read an Evaluator output: metrics by model role and slice, failed thresholds, the verdict.

One reader for the end-of-run summary, `make inspect` and `make report`.
"""
from __future__ import annotations

import re
from typing import Any

import tensorflow_model_analysis as tfma

from components.gate_config import number

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


def class_names(transform_graph_uri: str | None) -> list[str]:
    """A classifier run's class names in class-id order (the Transform's label vocabulary), or []."""
    import tensorflow_transform as tft

    from data import features

    if not transform_graph_uri:
        return []
    try:
        return [v.decode() for v in tft.TFTransformOutput(transform_graph_uri).vocabulary_by_name(features.LABEL_VOCABULARY)]
    except Exception:  # noqa: BLE001  (a task without classes)
        return []


def readable(name: str, classes: list[str]) -> str:
    """`metric[class k]` -> `metric[<class name>]`."""
    return re.sub(
        r"\[class (\d+)\]", lambda m: f"[{classes[int(m.group(1))]}]" if int(m.group(1)) < len(classes) else m.group(0), name
    )


def read_evaluation(uri: str, has_baseline: bool, classes: list[str] = ()) -> dict[str, Any]:
    """{"metrics": {role: {name: value}}, "failures": [{"metric", "message"}]}; role is
    candidate, baseline or diff (candidate minus baseline); per-class metrics carry the `classes`' names."""
    classes = list(classes)
    metrics: dict[str, dict[str, float | None]] = {}
    for slice_metrics in tfma.load_metrics(uri):
        label = slice_name(slice_metrics.slice_key)
        for item in slice_metrics.metric_keys_and_values:
            key = item.key
            role = "diff" if key.is_diff else ("baseline" if has_baseline and key.model_name == "baseline" else "candidate")
            value = item.value.double_value.value if item.value.HasField("double_value") else None
            metrics.setdefault(role, {})[readable(metric_name(key, label), classes)] = value
    failures = [
        {"metric": readable(metric_name(failure.metric_key, slice_name(per_slice.slice_key)), classes),
         "message": failure.message.strip()}
        for per_slice in tfma.load_validation_result(uri).metric_validations_per_slice
        for failure in per_slice.failures
    ]
    return {"metrics": metrics, "failures": failures}


def reason(failure: dict, candidate: dict[str, float | None], challenger: str = "in-run baseline") -> str:
    """Why one threshold failed; a classifier's margin names its `challenger` (the EvalConfig's
    description) and both accuracies (for a TFMA threshold a user adds to the EvalConfig; the
    paired gate states its own reasons, components/paired_gate.py)."""
    from components import classifier_metrics

    if failure["metric"].startswith(classifier_metrics.ACCURACY_OVER_BASELINE):
        ours = candidate.get(classifier_metrics.ACCURACY_OVER_BASELINE)
        theirs = candidate.get(classifier_metrics.BASELINE_ACCURACY)
        figures = f": eval accuracy {theirs + ours:.4f} vs {theirs:.4f}" if None not in (ours, theirs) else ""
        return f"stopped by the {challenger}{figures}"
    return f"{failure['metric']}: {failure['message'] or 'threshold not met'}"


def verdict(
    blessed: bool, failures: list[dict], has_baseline: bool, metrics: dict | None = None, challenger: str | None = None,
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


def _bound(threshold: dict, kind: str) -> float | None:
    """A threshold dict's (MessageToDict of a tfma.MetricThreshold) value bound, or None."""
    found = threshold.get("valueThreshold", {}).get(kind)
    return float(found) if found is not None else None


def _subject(name: str, challenger: str | None) -> str:
    """What a shared gate metric compares, in words."""
    from components import classifier_metrics

    if name.startswith(classifier_metrics.ACCURACY_OVER_BASELINE):
        return f"the candidate's eval accuracy minus the {challenger or 'in-run baseline'}'s"
    return name


def rule(name: str, threshold: dict, challenger: str | None = None) -> str:
    """A threshold as a sentence ("MAE below 1 × the linear challenger's MAE"), not protobuf JSON;"""
    parts = []
    upper, lower = _bound(threshold, "upperBound"), _bound(threshold, "lowerBound")
    if upper is not None:
        parts.append(f"{_subject(name, challenger)} at most {number(upper)}")
    if lower is not None:
        parts.append(f"{_subject(name, challenger)} above {number(lower)}")
    change = threshold.get("changeThreshold")
    if change:
        allowed = float(change.get("absolute", 0.0))
        if change.get("direction") == "HIGHER_IS_BETTER":
            parts.append(f"{name} at most {number(-allowed)} below the deployed model's")
        else:
            parts.append(f"{name} at most {number(allowed)} above the deployed model's")
    return "; ".join(parts) or "no bound"


def failure_line(failure: dict, metrics: dict, thresholds: dict, challenger: str | None = None) -> str:
    """`FAILED <metric>`, with its value, its bound, and the rule it broke."""
    name = failure["metric"]
    threshold = thresholds.get(name.split("{")[0], {})
    changed = "changeThreshold" in threshold
    value = (metrics.get("diff" if changed else "candidate") or {}).get(name)
    shown = f" = {number(value)}" if value is not None else ""
    if changed and value is not None:
        shown += " against the deployed model"
    upper, lower = _bound(threshold, "upperBound"), _bound(threshold, "lowerBound")
    broken = ""
    if value is not None and upper is not None and value > upper:
        broken = f", above its bound {number(upper)}"
    elif value is not None and lower is not None and value < lower:
        broken = f", not above its bound {number(lower)}"
    rule_text = f" (rule: {rule(name.split('{')[0], threshold, challenger)})" if threshold else ""
    message = f": {failure['message']}" if failure.get("message") and not threshold else ""
    return f"FAILED {name}{shown}{broken}{rule_text}{message}"
