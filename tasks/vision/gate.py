"""The vision gate: the classification gate against the pixel baseline."""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from components import paired_gate
from components.gate_config import (
    classification_eval_config,
    classification_gate,
    classifier_losses,
)
from data.config import PipelineConfig

CHALLENGER = "pixel baseline (logistic regression on pixels)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return classification_eval_config(config, CHALLENGER)


def gate(config: PipelineConfig) -> paired_gate.GateSpec:
    """The paired classification gate; the ViT has no linear start, so its gain is reported
    over the pixel regression, the linear model of the same pixels."""
    return classification_gate(
        config, f"{__name__}.losses", CHALLENGER, "baseline", f"the {CHALLENGER}", grows_from_start=False
    )


losses = classifier_losses  # the gate's per-example losses (components/gate_config.py)
