"""Forward + backward time of our MultiHeadAttention against keras.layers.MultiHeadAttention.

Self-attention on (32, T, 128) with 8 heads, T in (128, 512). Each step is a
`tf.function` running the layer under a `tf.GradientTape` and taking gradients with
respect to the input and all weights. Both layers are timed in the same process,
interleaved, after a warm-up; the median of the repeats is reported.
"""
from __future__ import annotations

import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from models.layers import MultiHeadAttention

BATCH = 32
WIDTH = 128
HEADS = 8
LENGTHS = (128, 512)
GOAL_RATIO = 1.10  # custom may be at most 10% slower than keras.
WARMUP = 3
REPEATS = 15


def _train_step(layer):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, x)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, *layer.trainable_variables])

    return step


def _time_ms(step, x) -> float:
    started = time.perf_counter()
    grads = step(x)
    _ = [g.numpy() for g in grads[:1]]  # block until the step is done
    return (time.perf_counter() - started) * 1000.0


def measure(length: int, repeats: int = REPEATS) -> dict:
    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(BATCH, length, WIDTH)), tf.float32)
    reference = keras.layers.MultiHeadAttention(HEADS, WIDTH // HEADS)
    custom = MultiHeadAttention(HEADS, WIDTH // HEADS)
    reference(x, x)
    custom(x, x)
    steps = {"keras": _train_step(reference), "custom": _train_step(custom)}
    for step in steps.values():
        for _ in range(WARMUP):
            _time_ms(step, x)
    times = {name: [] for name in steps}
    for _ in range(repeats):  # interleave, so machine noise hits both alike
        for name, step in steps.items():
            times[name].append(_time_ms(step, x))
    keras_ms = statistics.median(times["keras"])
    custom_ms = statistics.median(times["custom"])
    ratio = custom_ms / keras_ms
    return {
        "length": length,
        "keras_ms": keras_ms,
        "custom_ms": custom_ms,
        "ratio": ratio,
        "goal_met": ratio <= GOAL_RATIO,
    }


def run(args=None) -> list[dict]:
    return [measure(length) for length in LENGTHS]


if __name__ == "__main__":
    for row in run():
        print(row)
