"""Where a Trainer's time goes: examples/s, counted FLOPs, the fraction of the matmul peak.

With `trainer.profile: true` the shared fit (components/training.py) times every epoch's
training phase through `EpochClock` and, once training is over (so that the trained model
and its shuffling are exactly those of an unprofiled run), measures on the same model and
data, in the Trainer's own process:
- `input_s_per_step`: the train input pipeline alone, one full pass (reading, parsing,
  the task's map and augmentation), per batch;
- `compute_s_per_step`: forward and backward on one batch held in memory, no input and no
  optimizer: the model's own cost;
- `step_s`: an epoch's training phase per batch, as `fit` ran it; `overhead_s_per_step` is
  what it spends beyond compute (input not hidden by prefetch, per-step dispatch,
  callbacks, the optimizer update);
- `flops_per_example`: forward and backward contractions counted on the traced gradient
  graph (components/flops.py);
- `matmul_peak_gflops`: a large FP32 `tf.matmul` timed in the same process, and
  `peak_fraction`, the training phase's achieved FLOP rate over it.
It is written as `trainer_speed.json` in the Model artifact; `make bench` collects it
(bench/trainer_speed.py).
"""
from __future__ import annotations

import json
import statistics
import time

import keras
import tensorflow as tf

from components import flops

PROFILE_FILE = "trainer_speed.json"  # in the Model artifact
PEAK_SIZE = 1024  # square FP32 matmul for the peak: large enough to be compute-bound
COMPUTE_REPEATS = 10


class EpochClock(keras.callbacks.Callback):
    """Seconds of each epoch's training phase (first to last batch; validation excluded)."""

    def __init__(self):
        super().__init__()
        self.train_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._last = time.perf_counter(), None

    def on_train_batch_end(self, batch, logs=None):  # once per call (steps_per_execution batches)
        self._last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._last is not None:
            self.train_seconds.append(self._last - self._start)


def matmul_peak_gflops(size: int = PEAK_SIZE, seconds: float = 1.0) -> float:
    """FP32 GFLOP/s of repeated (size x size) @ (size x size) products on this process's threads."""
    a = tf.random.stateless_normal((size, size), seed=(1, 2))
    b = tf.random.stateless_normal((size, size), seed=(3, 4))
    product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    product(a, b).numpy()  # trace and warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 3:
        product(a, b).numpy()
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start) / 1e9


def gradient_function(model: keras.Model):
    """Forward and backward of the compiled loss on one batch, no optimizer update."""

    @tf.function
    def step(x, y, sample_weight=None):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
        # an embedding's gradient is IndexedSlices: its rows, as the optimizer would read them
        return [g.values if isinstance(g, tf.IndexedSlices) else g for g in gradients]

    return step


def batch_size_of(x) -> int:
    return int(tf.nest.flatten(x)[0].shape[0])


def profile(model: keras.Model, train: tf.data.Dataset, clock: EpochClock) -> dict:
    """The figures above, for `model` trained on `train` with `clock` among `fit`'s callbacks."""
    started = time.perf_counter()
    batches = examples = 0
    first = None
    for element in train:  # (x, y) or (x, y, sample weights)
        if first is None:
            first = tuple(element)
        batches, examples = batches + 1, examples + batch_size_of(element[0])
    input_seconds = time.perf_counter() - started

    step = gradient_function(model)
    concrete = step.get_concrete_function(*first)
    batch = batch_size_of(first[0])
    counted = flops.graph_flops(concrete.graph)
    step(*first)  # warm up
    times = []
    for _ in range(COMPUTE_REPEATS):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), step(*first))
        times.append(time.perf_counter() - start)
    compute = statistics.median(times)

    # the steady state: the median epoch (the first one also traces the train function); an
    # epoch is one pass over `train`, whose batches and examples the input pass counted
    epoch_seconds = statistics.median_low(clock.train_seconds)
    steps = max(batches, 1)
    step_seconds = epoch_seconds / steps
    examples_per_second = examples / epoch_seconds
    peak = matmul_peak_gflops()
    flops_per_example = counted / batch
    achieved = flops_per_example * examples_per_second / 1e9
    return {
        "examples_per_epoch": examples,
        "batch_size": batch,
        "steps_per_epoch": steps,
        "epoch_train_s": epoch_seconds,
        "examples_per_s": examples_per_second,
        "flops_per_example": flops_per_example,
        "achieved_gflops": achieved,
        "matmul_peak_gflops": peak,
        "peak_fraction": achieved / peak,
        "step_s": step_seconds,
        "input_s_per_step": input_seconds / max(batches, 1),
        "compute_s_per_step": compute,
        "overhead_s_per_step": max(step_seconds - compute, 0.0),
        "epochs_timed": len(clock.train_seconds),
        "profile_s": time.perf_counter() - started,  # this measurement's own cost, not the Trainer's
    }


def write(model_uri: str, figures: dict) -> None:
    tf.io.gfile.makedirs(model_uri)
    with tf.io.gfile.GFile(f"{model_uri.rstrip('/')}/{PROFILE_FILE}", "w") as handle:
        json.dump(figures, handle, indent=2)


def read(model_uri: str) -> dict | None:
    path = f"{model_uri.rstrip('/')}/{PROFILE_FILE}"
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)
