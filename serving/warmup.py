"""Warm-up requests a model should answer, built from its own raw features, and the check that it does.

A placeholder input (an empty tf.Example) fails on most models, so it cannot tell a good
version from one whose signatures always fail. These requests are one example of the
model's raw features (its `predict_raw` inputs; components/raw_features.py) with plain
values: zeros for numbers (a window of zeros, timestep 0) and, for a text or encoded
bytes, in turn a short text, a tiny PNG and a short WAV clip, since the spec says
"string" for all three; the first that runs is the one that counts. Every signature that
takes those raw features (`predict_raw`) or serialized tf.Examples of them
(`serving_default`, `evaluation`, ...) must answer one of them, or the version is not
served. Other signatures (such as float audio samples with a sample rate) take inputs the
server cannot build with confidence: they are called once on placeholders to load their
kernels, and a failure there is not held against the version.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import tensorflow as tf

from components import raw_features, tf_errors
from components.export import EXAMPLES_INPUT

TEXT_SAMPLE = b"warm-up"
IMAGE_SIDE = 8  # pixels of the PNG sample (image models resize what they get)
WAV_RATE, WAV_SECONDS = 16000, 0.1  # the WAV sample: silence


class WarmupFailed(RuntimeError):
    """A signature answered none of the warm-up requests built for it."""


@functools.cache
def string_samples() -> tuple[bytes, ...]:
    """The values tried in turn for a string feature: a text, an encoded image, an encoded recording."""
    png = tf.io.encode_png(tf.zeros([IMAGE_SIDE, IMAGE_SIDE, 3], tf.uint8)).numpy()
    wav = tf.audio.encode_wav(tf.zeros([int(WAV_RATE * WAV_SECONDS), 1]), WAV_RATE).numpy()
    return TEXT_SAMPLE, png, wav


def one_example(specs: dict[str, tf.TensorSpec], string: bytes) -> dict[str, np.ndarray]:
    """One example's raw features: {feature: value of the spec's shape after the batch (a free dimension is 1)}."""
    values = {}
    for key, spec in specs.items():
        shape = [d or 1 for d in spec.shape.as_list()[1:]]
        if spec.dtype == tf.string:  # objects, not np.full: numpy's bytes dtype drops trailing NULs (a WAV's silence)
            values[key] = np.array([string] * math.prod(shape), dtype=object).reshape(shape)
        else:
            values[key] = np.zeros(shape, spec.dtype.as_numpy_dtype)
    return values


def requests(function, specs: dict[str, tf.TensorSpec] | None) -> list[dict] | None:
    """Inputs to try on one signature, one per string sample, or None when it takes inputs other than the raw features."""
    inputs = dict(function.structured_input_signature[1])
    if specs is None:
        return None
    samples = string_samples() if any(s.dtype == tf.string for s in specs.values()) else string_samples()[:1]
    if set(inputs) == {EXAMPLES_INPUT}:  # serialized tf.Examples: (1,)
        return [{EXAMPLES_INPUT: tf.constant([raw_features.to_example(one_example(specs, s), specs)])} for s in samples]
    if inputs == specs:  # the raw features themselves: (1, ...) each
        return [{k: tf.constant(v[None], dtype=specs[k].dtype) for k, v in one_example(specs, s).items()} for s in samples]
    return None


def placeholder(spec: tf.TensorSpec) -> tf.Tensor:
    """One input of a signature whose inputs the server cannot build: zeros or empty strings, to load its kernels."""
    shape = [1] + [d or 1 for d in spec.shape.as_list()[1:]]
    return tf.fill(shape, tf.constant(b"")) if spec.dtype == tf.string else tf.zeros(shape, spec.dtype)


def warm_up(signatures: dict) -> None:
    """Call every signature once (trace caches, kernels, lookup tables); raise WarmupFailed naming each
    signature that answered none of the requests built from the model's raw features."""
    specs = raw_features.raw_feature_specs(signatures)
    failed = {}
    for name, function in sorted(signatures.items()):
        tried = requests(function, specs)
        if tried is None:
            try:
                function(**{k: placeholder(s) for k, s in function.structured_input_signature[1].items()})
            except Exception:  # noqa: BLE001, S110  (placeholders may be refused; not held against the version)
                pass
            continue
        errors = []
        for inputs in tried:
            try:
                function(**inputs)
                break
            except Exception as error:  # noqa: BLE001  (any failure is the version's)
                errors.append(tf_errors.summary(error))
        else:
            failed[name] = " | ".join(dict.fromkeys(errors))  # each distinct error once
    if failed:
        raise WarmupFailed("; ".join(f"'{name}' failed on every warm-up request ({why})" for name, why in failed.items()))
