"""The one loader of pushed models: the newest complete version under a serving directory.

The Pusher writes each version under a temporary name and renames it into place
(components/pusher.py), so a numeric directory is always complete; anything else
(a staging directory left by a killed push) is ignored, as TensorFlow Serving does.
"""
from __future__ import annotations

import os

import tensorflow as tf

from components.export import SERVING_SIGNATURE, serving_versions
from data.config import PipelineConfig


def latest_model_dir(serving_dir: str) -> str:
    found = serving_versions(serving_dir)
    if not found:
        raise FileNotFoundError(f"no pushed model under {serving_dir}: run `make run-local` first")
    return os.path.join(serving_dir, str(found[-1]))


def load_serving_fn(config: PipelineConfig):
    """(model directory, its `serving_default` function) of the newest pushed version."""
    model_dir = latest_model_dir(config.serving_dir)
    return model_dir, tf.saved_model.load(model_dir).signatures[SERVING_SIGNATURE]
