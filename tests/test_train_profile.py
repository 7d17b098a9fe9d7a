"""The Trainer profile: FLOPs counted from the traced graph, and the time split written after fit."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from components import flops, train_profile


def _traced(fn, *specs):
    return tf.function(fn).get_concrete_function(*specs).graph


def test_matmul_and_einsum_count_two_flops_per_multiply_add():
    a, b = tf.TensorSpec((4, 3)), tf.TensorSpec((3, 5))
    assert flops.graph_flops(_traced(tf.matmul, a, b)) == 2 * 4 * 3 * 5
    q, k = tf.TensorSpec((2, 7, 4, 8)), tf.TensorSpec((2, 6, 4, 8))  # (B, T, heads, dim)
    scores = _traced(lambda x, y: tf.einsum("bqhd,bkhd->bhqk", x, y), q, k)
    assert flops.graph_flops(scores) == 2 * 2 * 7 * 6 * 4 * 8
    batched = _traced(lambda x, y: tf.matmul(x, y, transpose_a=True), tf.TensorSpec((3, 5, 4)), tf.TensorSpec((3, 5, 2)))
    assert flops.graph_flops(batched) == 2 * 3 * 4 * 2 * 5


def test_conv_forward_and_both_gradients_count_the_same_work():
    image, kernel = tf.TensorSpec((2, 8, 8, 3)), tf.TensorSpec((3, 3, 3, 4))
    forward = flops.graph_flops(_traced(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), image, kernel))
    assert forward == 2 * (2 * 8 * 8 * 4) * (3 * 3 * 3)

    def both(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.reduce_sum(tf.nn.conv2d(x, w, 1, "SAME"))
        return y, tape.gradient(y, [x, w])  # y too: an unused forward pass would be pruned

    assert flops.graph_flops(_traced(both, image, kernel)) == 3 * forward


def test_a_dense_models_training_step_is_three_forward_passes():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = tf.zeros((8, 16)), tf.zeros((8, 1))
    graph = train_profile.gradient_function(model).get_concrete_function(x, y).graph
    forward = 2 * 8 * (16 * 32 + 32 * 1)
    # dW for both layers, dX only for the second (the input needs none)
    assert flops.graph_flops(graph) == forward + 2 * 8 * (16 * 32 + 32 * 1) + 2 * 8 * 32 * 1


@pytest.mark.slow
def test_profile_after_fit_reports_the_time_split_and_leaves_the_weights():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rows = np.random.rand(256, 17).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((rows[:, :16], rows[:, 16:])).batch(32)
    clock = train_profile.EpochClock()
    model.fit(data, epochs=3, verbose=0, callbacks=[clock])
    weights = [w.copy() for w in model.get_weights()]
    figures = train_profile.profile(model, data, clock)
    assert len(clock.train_seconds) == 3
    assert figures["examples_per_epoch"] == 256 and figures["steps_per_epoch"] == 8
    assert figures["flops_per_example"] == pytest.approx(2 * (16 * 64 + 64) * 2 + 2 * 64, rel=0.01)
    assert figures["examples_per_s"] > 0 and 0 < figures["peak_fraction"] < 1
    assert figures["compute_s_per_step"] > 0 and figures["matmul_peak_gflops"] > 1
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.slow
def test_steps_per_execution_groups_batches_without_skipping_any(tmp_path):
    from components import training
    from data.config import PipelineConfig

    rows = np.random.RandomState(0).rand(200, 5).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((rows[:, :4], rows[:, 4:])).batch(16)  # 13 batches, the last short

    def trained(steps_per_execution: int):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        config = PipelineConfig(task="timeseries")
        config.trainer.epochs, config.trainer.steps_per_execution, config.trainer.profile = 2, steps_per_execution, True
        history = training.fit(model, data, data, config, str(tmp_path / f"logs{steps_per_execution}"),
                               str(tmp_path / f"model{steps_per_execution}"))  # fmt: skip
        return model, history, train_profile.read(str(tmp_path / f"model{steps_per_execution}"))

    one, history_one, profile_one = trained(1)
    grouped, history_grouped, profile_grouped = trained(4)
    # the same 13 updates per epoch in the same order: the same weights and losses
    for a, b in zip(one.get_weights(), grouped.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)  # summation order differs between the graphs
    np.testing.assert_allclose(history_one.history["val_loss"], history_grouped.history["val_loss"], rtol=1e-4)
    assert profile_one["steps_per_epoch"] == profile_grouped["steps_per_epoch"] == 13


@pytest.mark.slow
def test_an_embeddings_sparse_gradient_is_timed_too():
    model = keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(50, 8),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])  # fmt: skip
    model.compile(optimizer="adam", loss="mse")
    ids = np.random.RandomState(0).randint(0, 50, (64, 6)).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((ids, np.zeros((64, 1), "float32"))).batch(16)
    clock = train_profile.EpochClock()
    model.fit(data, epochs=2, verbose=0, callbacks=[clock])
    figures = train_profile.profile(model, data, clock)  # the embedding's gradient is IndexedSlices
    assert figures["compute_s_per_step"] > 0 and figures["flops_per_example"] == 2 * 8 * 1 * 2 + 2 * 8


@pytest.mark.slow
def test_batches_with_sample_weights_are_profiled_with_them():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rows = np.random.RandomState(1).rand(32, 5).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((rows[:, :4], rows[:, 4:], np.ones(32, "float32"))).batch(8)
    clock = train_profile.EpochClock()
    model.fit(data, epochs=2, verbose=0, callbacks=[clock])
    figures = train_profile.profile(model, data, clock)
    assert figures["examples_per_epoch"] == 32 and figures["flops_per_example"] == 2 * 4 * 2
