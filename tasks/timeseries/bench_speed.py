"""Forecaster training and prediction speed at ETTh2 scale (lookback 336, horizon 96, 7 columns).

Before: the course's point-wise encoder (attention over 336 steps). After: the patch model
(attention over 42 patches per series, channel-independent), at several batch sizes, with
and without XLA (`jit_compile`). Windows per second of `train_on_batch` / `predict_on_batch`
on in-memory arrays (no input pipeline), and the achieved fraction of a `tf.matmul` peak
measured in the same run. The pipeline's own Trainer throughput is in the timeseries table.
"""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from models.forecaster import ForecasterConfig, build_forecaster
from tasks.timeseries.bench import matmul_peak_gflops

LOOKBACK, HORIZON, COLUMNS = 336, 96, 7
STEPS = 6  # timed steps after one warm-up step


def forward_flops(model) -> float:
    spec = tf.TensorSpec([1, LOOKBACK, COLUMNS], tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def build(variant: str, jit: bool):
    keras.utils.set_random_seed(0)
    common = dict(lookback=LOOKBACK, num_features=COLUMNS, horizon=HORIZON, target_indices=list(range(COLUMNS)))
    if variant == "patch":
        config = ForecasterConfig(**common, variant="patch", patch_length=16, patch_stride=8, num_layers=3,
                                  num_heads=4, model_dim=16, intermediate_dim=128, dropout=0.2)  # fmt: skip
    else:
        config = ForecasterConfig(**common, variant="encoder", num_layers=2, num_heads=4, model_dim=32,
                                  intermediate_dim=64, dropout=0.1)  # fmt: skip
    model = build_forecaster(config)
    model.compile(optimizer=model.optimizer, loss=model.loss, jit_compile=jit)
    return model


def timed(step, x, y=None) -> float:
    step(x) if y is None else step(x, y)  # warm-up (tracing, XLA compilation)
    started = time.perf_counter()
    for _ in range(STEPS):
        step(x) if y is None else step(x, y)
    return STEPS * len(x) / (time.perf_counter() - started)


def run(args) -> list[dict]:
    peak = matmul_peak_gflops()
    rng = np.random.default_rng(0)
    rows = []
    cases = [("encoder", 64, False), ("patch", 64, False), ("patch", 128, False), ("patch", 256, False),
             ("patch", 128, True)]  # fmt: skip
    for variant, batch, jit in cases:
        model = build(variant, jit)
        x = rng.normal(size=(batch, LOOKBACK, COLUMNS)).astype("float32")
        y = rng.normal(size=(batch, HORIZON, COLUMNS)).astype("float32")
        flops = forward_flops(model)
        train = timed(model.train_on_batch, x, y)
        predict = timed(model.predict_on_batch, x)
        rows.append({
            "row": f"{variant} batch {batch}{' xla' if jit else ''}",
            "train_windows_per_s": train,
            "predict_windows_per_s": predict,
            "train_fraction_of_peak": 3 * flops * train / 1e9 / peak,
            "note": f"{flops / 1e6:.1f} MFLOP/window forward; peak {peak:.0f} GFLOP/s",
        })  # fmt: skip
    return rows
