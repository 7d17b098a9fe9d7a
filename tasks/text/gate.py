"""The text gate: the classification gate, also sliced by text length; the transformer's start is its wide part."""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from components import paired_gate
from components.gate_config import (
    classification_eval_config,
    classification_gate,
    classifier_losses,
)
from data.config import PipelineConfig
from tasks.text import features

CHALLENGER = "bag-of-n-grams baseline (TF-IDF + logistic regression)"
WIDE = "its wide part (TF-IDF of words, bigrams and character n-grams + logistic regression)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """The classification gate, also sliced by text length."""
    return classification_eval_config(config, CHALLENGER, [tfma.SlicingSpec(feature_keys=[features.LENGTH_BUCKET_KEY])])


def gate(config: PipelineConfig) -> paired_gate.GateSpec:
    """The paired classification gate; the model's start is its wide part (the challenger itself
    when `prior_char_ngrams` is empty), or none when it classifies alone (`over_baseline: false`)."""
    from tasks.text.module import over_baseline, prior_char_ngrams

    if not over_baseline(config):
        return classification_gate(config, f"{__name__}.losses", CHALLENGER)
    start, label = ("wide", WIDE) if prior_char_ngrams(config) else ("baseline", f"the {CHALLENGER}")
    return classification_gate(config, f"{__name__}.losses", CHALLENGER, start, label)


losses = classifier_losses  # the gate's per-example losses (components/gate_config.py)
