"""Tiny real SavedModels shaped like the project's exports, for the Evaluator's and the server's tests.

One raw feature `x`, a window of `window` floats; `serving_default` and `evaluation` take
serialized tf.Examples, `predict_raw` takes the window itself (as components/export.py
writes them); the output is `forecast`: the window's sum times a variable. A `failing`
model's signatures always raise (an assertion on a runtime value, as a model whose
graph is broken would), whatever the input.
"""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from components.export import EVALUATION_SIGNATURE, EXAMPLES_INPUT, RAW_SIGNATURE, SERVING_SIGNATURE

FEATURE = "x"
OUTPUT = "forecast"


def save_window_model(export_dir: str, window: int = 3, failing: bool = False, scale: float = 2.0) -> str:
    root = tf.Module()
    root.scale = tf.Variable(scale)
    spec = {FEATURE: tf.io.FixedLenFeature([window], tf.float32)}

    def predict(raw: dict) -> dict:
        x = raw[FEATURE]  # (B, window)
        if failing:
            tf.debugging.Assert(tf.equal(tf.shape(x)[0], -1), ["this model always fails"])  # never true at run time
        return {OUTPUT: tf.reduce_sum(x, axis=1, keepdims=True) * root.scale}  # (B, 1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        return predict(tf.io.parse_example(examples, spec))

    @tf.function(input_signature=[tf.TensorSpec([None, window], tf.float32, name=FEATURE)])
    def serve_raw(x):
        return predict({FEATURE: x})

    signatures = {SERVING_SIGNATURE: serve, EVALUATION_SIGNATURE: serve, RAW_SIGNATURE: serve_raw}
    tf.saved_model.save(root, export_dir, signatures=signatures)
    return export_dir


def window_records(count: int, window: int = 3, seed: int = 0) -> list[bytes]:
    values = np.random.default_rng(seed).normal(size=(count, window)).astype(np.float32)
    return [
        tf.train.Example(
            features=tf.train.Features(feature={FEATURE: tf.train.Feature(float_list=tf.train.FloatList(value=row))})
        ).SerializeToString()
        for row in values
    ]


def truncate(path: str, keep_bytes: int = 64) -> None:
    """Cut a file short, as a disk that filled up mid-copy leaves it."""
    with open(path, "rb") as handle:
        head = handle.read(keep_bytes)
    with open(path, "wb") as handle:
        handle.write(head)


def saved_model_pb(export_dir: str) -> str:
    return os.path.join(export_dir, "saved_model.pb")
