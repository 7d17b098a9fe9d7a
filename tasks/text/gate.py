"""The text gate: the classification gate, also sliced by text length."""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from components.gate_config import classification_eval_config
from data.config import PipelineConfig
from tasks.text import features

CHALLENGER = "bag-of-n-grams baseline (TF-IDF + logistic regression)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """The classification gate, also sliced by text length."""
    return classification_eval_config(config, CHALLENGER, [tfma.SlicingSpec(feature_keys=[features.LENGTH_BUCKET_KEY])])
