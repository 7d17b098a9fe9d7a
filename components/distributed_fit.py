"""`fit` and `evaluate` for a Keras 3 model under MultiWorkerMirroredStrategy.

Why not `model.fit`: with the pinned Keras (3.15) on TensorFlow 2.16, `fit` under a strategy
with several workers fails before the first step. Its symbolic build reduces the first batch
with `strategy.reduce("MEAN", ...)` across workers (keras-team/keras#20329), which raises
"Attempt to convert a value (PerReplica ...) to a Tensor"; past it, each step's scalar outputs
are reduced with `axis=0` (tensorflow/tensorflow#72388, keras-team/keras#20585). What does work
is Keras's own `train_step` and `test_step` run per replica with `strategy.run`: the loss is the
per-replica mean scaled by 1/replicas and the optimizer all-reduces (sums) the gradients, so one
step on a global batch split in two is the step one process takes on the whole batch; metric
variables are sync-on-read sums, so their results are over the global batch. This module runs
those steps and drives the same Keras callbacks `fit` would, with the logs `fit` would give
(`loss`, the compiled metrics, and `val_` of each).
"""
from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import keras
import tensorflow as tf


def distributed(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """`dataset` (batched by the global batch) split across the workers: every worker reads the
    same (seeded) order and keeps its share of each global batch (auto-shard by data, which
    needs no more files than workers), so the workers together take one global batch per step."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def prepare(model: keras.Model, strategy: tf.distribute.Strategy, train: tf.data.Dataset) -> None:
    """Create the optimizer's and the compiled metrics' variables under the strategy, from a
    batch of zeros shaped as `train`'s (what `fit` does first, without its cross-worker mean of
    a real batch). Zeros, not `next(iter(train))`: every iterator of a reshuffling dataset takes
    the next shuffle, which would shift every epoch's order off the one-process run's."""
    batch = tf.nest.map_structure(lambda spec: tf.zeros([d or 1 for d in spec.shape], spec.dtype), train.element_spec)
    with strategy.scope():
        model._symbolic_build(data_batch=batch)  # Keras's own build of model, optimizer, metrics


_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {name: traced step}


def _step(model: keras.Model, strategy: tf.distribute.Strategy, name: str):
    """`model.<name>` (train_step, test_step) run on every replica, traced once per model."""
    steps = _STEPS.setdefault(model, {})
    if name not in steps:
        step_fn = getattr(model, name)
        steps[name] = tf.function(lambda batch: strategy.run(step_fn, args=(batch,)))
    return steps[name]


# What a collective raises when a peer died or stopped answering (its heartbeat or the collective
# timeout, components/distribution.py): the job cannot go on with one worker less.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
               tf.errors.CancelledError)  # fmt: skip


class WorkerLost(RuntimeError):
    """A worker of the training cluster failed mid-training; the multi-worker job fails with it."""


@contextlib.contextmanager
def _peers_needed(what: str) -> Iterator[None]:
    """Turn a collective's abort into one clear error naming what was running."""
    try:
        yield
    except PEER_ERRORS as error:
        first_line = str(error).strip().splitlines()[0][:300]
        raise WorkerLost(
            f"multi-worker {what} stopped: another worker of the cluster failed or stopped answering "
            f"({type(error).__name__}: {first_line}). Synchronous training cannot go on without it; "
            "rerun the Trainer job."
        ) from error


def _run_epoch(model, strategy, name: str, dataset, on_batch=None) -> None:
    """One pass over `dataset`, a `distributed(...)` dataset made once per `fit`, as Keras does:
    each pass then takes the next shuffle, the order one process sees epoch by epoch."""
    step = _step(model, strategy, name)
    for index, batch in enumerate(dataset):  # ends together on every worker
        if on_batch is not None:
            on_batch[0](index)
        step(batch)
        if on_batch is not None:
            on_batch[1](index)


def _results(model: keras.Model) -> dict[str, float]:
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def evaluate(model: keras.Model, strategy: tf.distribute.Strategy, evaluation: tf.data.Dataset) -> dict[str, float]:
    """`model.evaluate(evaluation, return_dict=True)` over every worker's share of `evaluation`."""
    if not isinstance(evaluation, tf.distribute.DistributedDataset):
        evaluation = distributed(strategy, evaluation)
    with _peers_needed("evaluation"):
        model.reset_metrics()
        _run_epoch(model, strategy, "test_step", evaluation)
        return _results(model)


def fit(model: keras.Model, strategy: tf.distribute.Strategy, train: tf.data.Dataset, evaluation: tf.data.Dataset,
        epochs: int, callbacks: list[keras.callbacks.Callback]) -> keras.callbacks.History:  # fmt: skip
    """`model.fit(train, validation_data=evaluation, epochs=epochs, callbacks=callbacks)` run
    step by step under `strategy`; stops after the epoch in which a callback sets `stop_training`.
    Every worker computes the same logs (all-reduced), so their callbacks decide alike."""
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList([*callbacks, history], model=model)
    callback_list.set_params({"epochs": epochs, "verbose": 0, "steps": None})
    model.stop_training = False
    callback_list.on_train_begin()
    # Keras's `fit` on a dataset of unknown length (every TFX dataset) ends each epoch with a call
    # that finds no batch yet counts one optimizer iteration (Keras 3.15, measured: 11 iterations
    # for 10 batches), which moves Adam's bias correction; doing the same keeps several workers
    # on the weights one process reaches.
    unknown_length = int(train.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    train, evaluation = distributed(strategy, train), distributed(strategy, evaluation)
    with _peers_needed("training"):
        _epochs(model, strategy, train, evaluation, epochs, callback_list, unknown_length)
    callback_list.on_train_end()
    return history


def _epochs(model, strategy, train, evaluation, epochs: int, callback_list, unknown_length: bool) -> None:
    for epoch in range(epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        _run_epoch(model, strategy, "train_step", train,
                   (callback_list.on_train_batch_begin, callback_list.on_train_batch_end))  # fmt: skip
        if unknown_length and model.optimizer is not None:
            model.optimizer.iterations.assign_add(1)
        logs = _results(model)
        logs |= {f"val_{name}": value for name, value in evaluate(model, strategy, evaluation).items()}
        callback_list.on_epoch_end(epoch, logs)
        print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
        if model.stop_training:
            break
