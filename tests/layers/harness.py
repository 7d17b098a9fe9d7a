"""One test harness for every layer, in the spirit of keras-hub's `run_layer_test`.

`run_layer_test` checks, on tiny shapes: the config round trip, a symbolic and an
eager call with the expected output shape, the trainable weight count, one `fit`
step of a model wrapping the layer, a `.keras` save/reload, and a
`tf.saved_model.save`/`load` export; the reloaded models must give the same outputs, to float32 rounding.
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

    # Config round trip, before and after building.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config

    # Eager call.
    output = layer(**{k: tf.constant(v) for k, v in input_data.items()}, **call_kwargs)
    assert tuple(output.shape) == tuple(expected_output_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert layer.get_config() == config
    assert layer_cls.from_config(layer.get_config()).get_config() == config

    # Symbolic call, wrapped in a model.
    inputs = _symbolic_inputs(input_data)
    outputs = layer_cls(**init_kwargs)(**inputs, **call_kwargs)
    assert tuple(outputs.shape[1:]) == tuple(expected_output_shape[1:])
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == expected_num_trainable_weights

    if run_training and expected_num_trainable_weights:
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", run_eagerly=True)
        before = [w.numpy().copy() for w in model.trainable_weights]
        target = np.random.default_rng(0).normal(size=expected_output_shape).astype("float32")
        history = model.fit(
            input_data, target, batch_size=len(target), epochs=1, verbose=0, shuffle=False
        )
        assert np.isfinite(history.history["loss"][0])
        changed = [
            not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights, strict=False)
        ]
        assert any(changed), "one fit step changed no weight"

    if not run_saving:
        return model
    expected = _as_numpy(model(input_data, training=False))

    # Keras native format.
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(_as_numpy(reloaded(input_data, training=False)), expected, rtol=RTOL, atol=atol)

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
    np.testing.assert_allclose(served.numpy(), expected, rtol=RTOL, atol=atol)
    return model
