"""Keying the Evaluator on the code of its custom metrics (the EvalConfigs are the tasks' own:
`tasks/<task>/gate.py`, with the shared classification gate in `components/gate_config.py`)."""
from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from data.config import SOURCE_FINGERPRINT_KEY
from pipeline.fingerprint import PROJECT_PACKAGES


def custom_metric_modules(eval_config: tfma.EvalConfig) -> list[str]:
    """The project modules that define `eval_config`'s custom TFMA metrics."""
    return sorted({
        metric.module for spec in eval_config.metrics_specs for metric in spec.metrics
        if metric.module.split(".")[0] in PROJECT_PACKAGES
    })  # fmt: skip


def with_source_fingerprint(eval_config: tfma.EvalConfig, fingerprint: str) -> tfma.EvalConfig:
    """`eval_config` whose custom metrics carry `source_fingerprint` in their config.

    The Evaluator has no `custom_config`; its cache key is its EvalConfig. Each custom
    metric accepts (and ignores) `source_fingerprint`, so an edit to the metric or to
    the Evaluator's executor reruns the Evaluator (pipeline/fingerprint.py).
    """
    keyed = tfma.EvalConfig()
    keyed.CopyFrom(eval_config)
    modules = set(custom_metric_modules(eval_config))
    for spec in keyed.metrics_specs:
        for metric in spec.metrics:
            if metric.module in modules:
                options = json.loads(metric.config or "{}")
                metric.config = json.dumps({**options, SOURCE_FINGERPRINT_KEY: fingerprint})
    return keyed
