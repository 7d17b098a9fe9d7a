"""The Decision Transformer: causality, left padding, bounded actions, saving, graphs and training."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.decision_transformer import (
    DecisionTransformerConfig,
    ScaleToBounds,
    TrajectoryTokens,
    build_decision_transformer,
    next_action,
)
from tests.layers.harness import run_layer_test

STATE_DIM = 3
NUM_ACTIONS = 3  # discrete
LOW, HIGH = [-2.0, 0.1], [-0.5, 3.0]  # continuous, 2 dimensions, deliberately asymmetric
K = 6
PADS = [0, 2, 1, 3]  # left padding per row of a (4, 6) batch


def tiny_config(discrete: bool, **overrides) -> DecisionTransformerConfig:
    values = {"state_dim": STATE_DIM, "discrete": discrete, "context_length": K, "max_timestep": 50,
              "model_dim": 16, "num_layers": 2, "num_heads": 2, "mlp_dim": 32, "warmup_steps": 5,
              "decay_steps": 100}  # fmt: skip
    if discrete:
        values.update(action_dim=NUM_ACTIONS)
    else:
        values.update(action_dim=len(LOW), action_low=LOW, action_high=HIGH)
    return DecisionTransformerConfig(**{**values, **overrides})


def windows(config: DecisionTransformerConfig, pads, length: int = K, seed: int = 0) -> dict:
    """A batch of windows (B = len(pads), L = length); row b has pads[b] padded steps on the left,
    whose values are garbage (the model must ignore them, whatever they hold)."""
    rng = np.random.default_rng(seed)
    batch = len(pads)
    mask = (np.arange(length)[None] >= np.asarray(pads)[:, None]).astype("float32")  # (B, L)
    if config.discrete:
        actions = rng.integers(-1, config.action_dim + 3, (batch, length)).astype("int32")  # (B, L)
    else:
        actions = rng.uniform(LOW, HIGH, (batch, length, len(LOW))).astype("float32")  # (B, L, A)
    return {
        "returns_to_go": rng.normal(size=(batch, length)).astype("float32"),
        "states": rng.normal(size=(batch, length, config.state_dim)).astype("float32"),
        "actions": actions,
        # Consecutive timesteps from a random start, some past max_timestep (50): clipped.
        "timesteps": (rng.integers(0, 60, (batch, 1)) + np.arange(length)).astype("int32"),
        "mask": mask,
    }


def predict(model, inputs: dict) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def perturbed(
    inputs: dict, key: str, start: int, rng: np.random.Generator, num_actions: int
) -> dict:
    """`inputs` with `key` changed at every step >= start (a discrete action to another id)."""
    changed = {name: value.copy() for name, value in inputs.items()}
    value = changed[key]
    if value.dtype.kind == "i":
        value[:, start:] = (
            value[:, start:] + rng.integers(1, num_actions + 1, value[:, start:].shape)
        ) % (num_actions + 1)
    else:
        value[:, start:] += rng.normal(size=value[:, start:].shape).astype("float32")
    return changed


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "continuous"])
def test_an_action_depends_on_earlier_returns_states_and_actions_only(discrete):
    keras.utils.set_random_seed(0)
    config = tiny_config(discrete)
    model = build_decision_transformer(config)
    inputs = windows(config, PADS)
    base = predict(model, inputs)  # (B, L, A)
    rng = np.random.default_rng(1)
    real = inputs["mask"].astype(bool)  # (B, L)
    for t in range(K - 1):
        # a_t is predicted from s_t, so R and s may change after t, the actions from t on.
        for key, start in (("returns_to_go", t + 1), ("states", t + 1), ("actions", t)):
            out = predict(model, perturbed(inputs, key, start, rng, config.action_dim))
            diff = np.abs(out - base).max(-1)  # (B, L)
            before, after = diff[:, : t + 1][real[:, : t + 1]], diff[:, t + 1 :][real[:, t + 1 :]]
            message = f"{key} changed from step {start}"
            assert before.max(initial=0.0) < 1e-5, f"{message}: an output at step <= {t} changed"
            assert after.max() > 1e-4, f"{message}: no output after step {t} changed"


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "continuous"])
def test_left_padding_does_not_change_the_outputs_at_real_steps(discrete):
    keras.utils.set_random_seed(0)
    config = tiny_config(discrete)
    model = build_decision_transformer(config)
    padded = windows(config, [3, 3, 3])  # (3, K): 3 real steps after 3 garbage ones
    short = {name: value[:, 3:] for name, value in padded.items()}  # (3, 3): the same real steps
    np.testing.assert_allclose(predict(model, padded)[:, 3:], predict(model, short), atol=1e-5)
    other_garbage = windows(config, [3, 3, 3], seed=1)
    for name, value in padded.items():
        other_garbage[name][:, 3:] = value[:, 3:]
    np.testing.assert_allclose(
        predict(model, other_garbage)[:, 3:], predict(model, short), atol=1e-5
    )


@pytest.mark.slow
def test_continuous_actions_stay_within_asymmetric_bounds():
    keras.utils.set_random_seed(0)
    model = build_decision_transformer(tiny_config(discrete=False))
    inputs = windows(tiny_config(discrete=False), PADS)
    for scale in (1.0, 1e4):  # 1e4: the tanh saturates, and the outputs reach the bounds
        kernel = model.get_layer("action_head").kernel
        kernel.assign(kernel * scale)
        out = predict(model, inputs)  # (B, L, 2)
        assert np.all(out >= np.array(LOW, "float32")) and np.all(out <= np.array(HIGH, "float32"))
    assert (
        np.isclose(out.min(axis=(0, 1)), LOW).all() and np.isclose(out.max(axis=(0, 1)), HIGH).all()
    )


# An unfitted model's optimizer has no state to save; Keras warns that it skips loading it.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "continuous"])
def test_the_model_reloads_with_identical_outputs(discrete, tmp_path):
    keras.utils.set_random_seed(0)
    config = tiny_config(discrete)
    model = build_decision_transformer(config)
    inputs = windows(config, PADS)
    path = str(tmp_path / "decision_transformer.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(predict(reloaded, inputs), predict(model, inputs), atol=1e-6)
    assert reloaded.loss.reduction == "mean_with_sample_weight"


@pytest.mark.slow
def test_one_graph_serves_any_window_length(tmp_path):
    """What a serving signature does: any L up to K in one trace, the action read at L - 1,
    also once exported as a SavedModel (as the TFX Trainer exports)."""
    keras.utils.set_random_seed(0)
    config = tiny_config(discrete=True)
    model = build_decision_transformer(config)
    spec = {
        "returns_to_go": tf.TensorSpec((None, None), tf.float32),
        "states": tf.TensorSpec((None, None, STATE_DIM), tf.float32),
        "actions": tf.TensorSpec((None, None), tf.int32),
        "timesteps": tf.TensorSpec((None, None), tf.int32),
        "mask": tf.TensorSpec((None, None), tf.float32),
    }
    serve = tf.function(
        lambda inputs: next_action(model(inputs, training=False)[:, -1], discrete=True),
        input_signature=[spec],
    )
    relaxed = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
    lengths = (1, 4, K)
    batches = [windows(config, [0, 0], length=length, seed=length) for length in lengths]
    actions = []
    for inputs in batches:
        expected = predict(model, inputs)  # (B, L, A)
        actions.append(serve(inputs).numpy())  # (B,)
        assert actions[-1].dtype == np.int32
        np.testing.assert_array_equal(actions[-1], expected[:, -1].argmax(-1))
        np.testing.assert_allclose(relaxed(inputs).numpy(), expected, atol=1e-5)
    assert serve.experimental_get_tracing_count() == 1
    # Once with the first shape seen, once more with L relaxed to None.
    assert relaxed.experimental_get_tracing_count() <= 2

    module = tf.Module()
    module.model, module.serve = model, serve
    tf.saved_model.save(module, str(tmp_path / "saved_model"))
    exported = tf.saved_model.load(str(tmp_path / "saved_model"))
    for inputs, action in zip(batches, actions, strict=True):
        np.testing.assert_array_equal(exported.serve(inputs).numpy(), action)


def test_next_action_is_the_argmax_or_the_values():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]], "float32")
    assert keras.ops.convert_to_numpy(next_action(logits, discrete=True)).tolist() == [1, 0]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(next_action(logits, discrete=False)), logits
    )


def learnable_windows(config: DecisionTransformerConfig, batch: int, seed: int):
    """(inputs, targets): each step's action is set by the sign of its first state coordinate;
    padded steps hold garbage targets, which the sample weights (the mask) must ignore."""
    rng = np.random.default_rng(seed)
    inputs = windows(config, rng.integers(0, K, batch), seed=seed)
    positive = inputs["states"][..., 0] > 0  # (B, L)
    if config.discrete:
        targets = positive.astype("int32")  # (B, L) ids 0/1
        inputs["actions"] = np.where(inputs["mask"] > 0, targets, config.action_dim).astype("int32")
        targets[inputs["mask"] == 0] = 0  # any valid id
    else:
        # 90% of the way to HIGH for a positive coordinate, to LOW otherwise: inside the bounds.
        center = np.add(LOW, HIGH) / 2
        targets = (center + 0.9 * (np.where(positive[..., None], HIGH, LOW) - center)).astype(
            "float32"
        )
        targets[inputs["mask"] == 0] = 100.0  # far outside the bounds: it would dominate the loss
    return inputs, targets


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "continuous"])
def test_fit_learns_from_dict_windows_weighted_per_step(discrete):
    keras.utils.set_random_seed(0)
    # 64 optimizer steps; tracing the train step costs more than running them.
    config = tiny_config(
        discrete, num_layers=1, dropout=0.0, learning_rate=3e-3, warmup_steps=10, decay_steps=64
    )
    model = build_decision_transformer(config)
    inputs, targets = learnable_windows(config, 256, seed=0)
    before = model.evaluate(
        inputs, targets, sample_weight=inputs["mask"], batch_size=256, verbose=0, return_dict=True
    )
    # The loss is a mean over real steps only: the same whatever padded steps hold.
    outputs = predict(model, inputs)
    if discrete:
        per_step = keras.ops.convert_to_numpy(
            keras.losses.sparse_categorical_crossentropy(targets, outputs, from_logits=True)
        )
    else:
        per_step = ((outputs - targets) ** 2).mean(-1)
    real = inputs["mask"] > 0
    np.testing.assert_allclose(before["loss"], per_step[real].mean(), rtol=1e-4)

    history = model.fit(
        inputs, targets, sample_weight=inputs["mask"], batch_size=32, epochs=8, verbose=0
    )
    assert history.history["loss"][-1] < 0.2 * before["loss"], history.history["loss"]
    held_out, held_out_targets = learnable_windows(config, 256, seed=1)
    after = model.evaluate(
        held_out,
        held_out_targets,
        sample_weight=held_out["mask"],
        batch_size=256,
        verbose=0,
        return_dict=True,
    )
    assert after["loss"] < 0.2 * before["loss"], (before, after)
    if discrete:
        assert after["accuracy"] > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "continuous"])
def test_trajectory_tokens_through_the_layer_harness(discrete, tmp_path):
    config = tiny_config(discrete)
    inputs = windows(config, [0, 1], length=4)
    del inputs["mask"]
    run_layer_test(
        TrajectoryTokens,
        {"model_dim": 8, "action_dim": config.action_dim, "discrete": discrete, "max_timestep": 50},
        inputs,
        (2, 12, 8),
        # R and s Dense 4, action Embedding 1 (discrete) or Dense 2, timestep Embedding 1, norm 2
        8 if discrete else 9,
        tmp_path,
    )


def test_trajectory_tokens_interleave_return_state_action_per_step():
    config = tiny_config(discrete=True)
    layer = TrajectoryTokens(8, NUM_ACTIONS, True, max_timestep=50)
    inputs = windows(config, [0, 0], length=4)
    del inputs["mask"]
    base = keras.ops.convert_to_numpy(layer(**inputs))  # (B, 12, D)

    def changed_tokens(key, step, value):
        changed = {name: v.copy() for name, v in inputs.items()}
        changed[key][:, step] = value
        out = keras.ops.convert_to_numpy(layer(**changed))
        return np.flatnonzero(np.abs(out - base).max(axis=(0, 2)) > 0).tolist()

    assert changed_tokens("returns_to_go", 1, 9.0) == [3]
    assert changed_tokens("states", 2, 9.0) == [7]
    assert changed_tokens("actions", 0, (inputs["actions"][:, 0] + 1) % NUM_ACTIONS) == [2]
    assert changed_tokens("timesteps", 3, 7) == [9, 10, 11]
    # Ids outside [0, A) are the unknown action, and timesteps past max_timestep its last row.
    unknown = {**inputs, "actions": np.full((2, 4), NUM_ACTIONS, "int32")}
    for other in (-1, NUM_ACTIONS + 5):
        np.testing.assert_array_equal(
            layer(**{**unknown, "actions": np.full((2, 4), other, "int32")}), layer(**unknown)
        )
    late = {**inputs, "timesteps": np.full((2, 4), 50, "int32")}
    np.testing.assert_array_equal(
        layer(**{**late, "timesteps": np.full((2, 4), 999, "int32")}), layer(**late)
    )


def test_scale_to_bounds_through_the_layer_harness(tmp_path):
    x = np.array([[[-1e4, 1e4], [0.0, 0.0]]], "float32")  # (1, 2, 2)
    model = run_layer_test(
        ScaleToBounds, {"low": LOW, "high": HIGH}, {"x": x}, (1, 2, 2), 0, tmp_path
    )
    np.testing.assert_allclose(
        model({"x": x}).numpy()[0], [LOW[:1] + HIGH[1:], np.add(LOW, HIGH) / 2], atol=1e-6
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"model_dim": 10, "num_heads": 4},
            r"`model_dim` \(10\) must be divisible by `num_heads` \(4\)",
        ),
        ({"action_dim": 0}, r"`action_dim` \(0\) must be >= 1"),
        ({"state_dim": 0}, r"`state_dim` \(0\) must be >= 1"),
        ({"action_high": None}, "continuous actions need `action_low` and `action_high`"),
        ({"action_low": [-1.0]}, r"one bound per action dimension \(`action_dim` = 2\)"),
        (
            {"action_low": [-1.0, 5.0]},
            r"action dimension 1: `action_low` \(5.0\) must be < `action_high` \(3.0\)",
        ),
        ({"discrete": True}, "apply to continuous actions only"),
        (
            {"warmup_steps": 100},
            r"`warmup_steps` \(100\) must be >= 0 and below `decay_steps` \(100\)",
        ),
        ({"dropout": 1.0}, r"`dropout` \(1.0\) must be in \[0, 1\)"),
        ({"context_length": 0}, r"`context_length` \(0\) must be >= 1"),
        ({"steps_per_execution": 0}, r"`steps_per_execution` \(0\) must be >= 1"),
    ],
)
def test_validate_says_what_to_change(overrides, message):
    config = dataclasses.replace(tiny_config(discrete=False), **overrides)
    with pytest.raises(ValueError, match=message):
        config.validate()
    with pytest.raises(ValueError, match=message):
        build_decision_transformer(config)


def test_a_valid_config_and_no_warmup_build():
    tiny_config(discrete=True).validate()
    model = build_decision_transformer(tiny_config(discrete=False, warmup_steps=0))
    assert model.output_names == ["action"]
    assert sorted(model.input) == ["actions", "mask", "returns_to_go", "states", "timesteps"]


@pytest.mark.slow
def test_steps_per_execution_changes_the_speed_not_the_training():
    """Several optimizer steps per graph call (9 batches, calls of 4: a partial last call)
    leave the same weights and loss history as one step per call."""
    inputs, targets = learnable_windows(tiny_config(True), 9 * 16, seed=2)
    trained = {}
    for steps in (1, 4):
        keras.utils.set_random_seed(0)
        model = build_decision_transformer(tiny_config(True, num_layers=1, dropout=0.0, steps_per_execution=steps))
        history = model.fit(inputs, targets, sample_weight=inputs["mask"], batch_size=16, epochs=2, shuffle=False, verbose=0)
        assert model.steps_per_execution == steps  # compiled as configured
        trained[steps] = (history.history["loss"], model.get_weights())
    np.testing.assert_allclose(trained[4][0], trained[1][0], rtol=1e-5)
    # weights near 0 (1e-6) differ by a few 1e-6 between the two graphs' summation orders, and
    # more on another CPU: a skipped or repeated batch moves them by orders of magnitude more
    for four, one in zip(trained[4][1], trained[1][1], strict=True):
        np.testing.assert_allclose(four, one, rtol=1e-4, atol=1e-4)
