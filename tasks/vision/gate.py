"""The vision gate: the classification gate against the pixel baseline."""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from components.gate_config import classification_eval_config
from data.config import PipelineConfig

CHALLENGER = "pixel baseline (logistic regression on pixels)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return classification_eval_config(config, CHALLENGER)
