"""One test harness for every layer, in the spirit of keras-hub's `run_layer_test`.

`run_layer_test` checks, on tiny shapes: the config round trip, a symbolic and an
eager call with the expected output shape, the trainable weight count, one `fit`
step of a model wrapping the layer, a `.keras` save/reload, and a
`tf.saved_model.save`/`load` export; the reloaded models must give the same outputs, to float32 rounding.
A layer with several outputs (RevIN returns a tuple) gives `expected_output_shape` as a tuple of shapes.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

RTOL = 1e-5  # relative tolerance of reloaded and served outputs (float32 summation order)


def _symbolic_inputs(input_data: dict) -> dict:
    return {
        name: keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=name)
        for name, value in input_data.items()
    }


def _as_numpy(x):
    return keras.ops.convert_to_numpy(x)


def _is_multi_output(expected_output_shape) -> bool:
    """((2, 4, 6), (2, 1, 6)) names two outputs; (2, 4, 6) names one."""
    return isinstance(expected_output_shape[0], tuple | list)


def _outputs(x) -> list:
    """One output or a tuple/list of them, as a list."""
    return list(x) if isinstance(x, tuple | list) else [x]


def _assert_outputs_close(actual, expected, atol):
    actual = _outputs(actual)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(_as_numpy(a), e, rtol=RTOL, atol=atol)


def run_layer_test(
    layer_cls,
    init_kwargs: dict,
    input_data: dict,
    expected_output_shape: tuple,
    expected_num_trainable_weights: int,
    tmp_path,
    call_kwargs: dict | None = None,
    run_training: bool = True,
    run_saving: bool = True,
    atol: float = 1e-6,
):
    """`input_data` maps the layer's call argument names to numpy arrays (batch first).

    Reloaded and served outputs must equal the in-process ones within `atol` plus RTOL of
    their size: a traced graph may sum in another order (a few float32 ulps, 1.1e-6 on an
    output of 2.3 was seen under load), while a lost weight moves outputs by far more."""
    call_kwargs = call_kwargs or {}
    multi = _is_multi_output(expected_output_shape)
    shapes = [tuple(s) for s in expected_output_shape] if multi else [tuple(expected_output_shape)]

    # Config round trip, before and after building.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config

    # Eager call.
    output = layer(**{k: tf.constant(v) for k, v in input_data.items()}, **call_kwargs)
    assert [tuple(o.shape) for o in _outputs(output)] == shapes
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert layer.get_config() == config
    assert layer_cls.from_config(layer.get_config()).get_config() == config

    # Symbolic call, wrapped in a model.
    inputs = _symbolic_inputs(input_data)
    outputs = layer_cls(**init_kwargs)(**inputs, **call_kwargs)
    assert [tuple(o.shape[1:]) for o in _outputs(outputs)] == [s[1:] for s in shapes]
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == expected_num_trainable_weights

    if run_training and expected_num_trainable_weights:
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", run_eagerly=True)
        before = [w.numpy().copy() for w in model.trainable_weights]
        rng = np.random.default_rng(0)
        targets = [rng.normal(size=s).astype("float32") for s in shapes]
        history = model.fit(
            input_data,
            tuple(targets) if multi else targets[0],
            batch_size=shapes[0][0],
            epochs=1,
            verbose=0,
            shuffle=False,
        )
        assert np.isfinite(history.history["loss"][0])
        changed = [
            not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights, strict=False)
        ]
        assert any(changed), "one fit step changed no weight"

    if not run_saving:
        return model
    expected = [_as_numpy(o) for o in _outputs(model(input_data, training=False))]

    # Keras native format.
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    _assert_outputs_close(reloaded(input_data, training=False), expected, atol)

    # TensorFlow SavedModel, as the TFX Trainer exports it.
    signature = {
        name: tf.TensorSpec((None, *value.shape[1:]), tf.as_dtype(value.dtype), name=name)
        for name, value in input_data.items()
    }
    module = tf.Module()
    module.model = model
    module.serve = tf.function(
        lambda inputs: model(inputs, training=False), input_signature=[signature], autograph=False
    )
    export_dir = str(tmp_path / "saved_model")
    tf.saved_model.save(module, export_dir)
    restored = tf.saved_model.load(export_dir)
    served = restored.serve({k: tf.constant(v) for k, v in input_data.items()})
    _assert_outputs_close(served, expected, atol)
    return model


def assert_future_is_hidden(run, x, atol: float = 1e-5):
    """Perturbing position t leaves outputs at positions < t unchanged (a causal layer),
    and does change the output at t (so the check is not passed by a constant layer).

    The perturbation varies across channels: a LayerNorm would erase a constant shift."""
    before = run(x)
    for t in range(1, x.shape[1]):
        changed = x.copy()
        changed[:, t] += np.linspace(-5.0, 5.0, x.shape[-1], dtype=x.dtype)
        after = run(changed)
        np.testing.assert_allclose(after[:, :t], before[:, :t], atol=atol)
        assert not np.allclose(after[:, t], before[:, t], atol=atol)


def assert_padding_is_hidden(run, x, mask, atol: float = 1e-5):
    """Changing padded positions (mask False) leaves outputs at real positions unchanged."""
    before = run(x)
    changed = x.copy()
    changed[~mask] = 100.0
    np.testing.assert_allclose(run(changed)[mask], before[mask], atol=atol)
