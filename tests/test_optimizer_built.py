"""`training.with_optimizer_built`: the optimizer's slots exist before `fit` traces its first
train step, so that step is traced once (no variable is created inside it), and training is
unchanged by it."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from components.training import with_optimizer_built


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def _fit(model: keras.Model) -> tuple[list[str], list[float]]:
    """(names of the variables created inside a traced function during fit, the epoch losses)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")  # (N, 4)
    y = x.sum(axis=1, keepdims=True)  # (N, 1)
    created = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            created.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return created, history.history["loss"]


def test_the_train_step_creates_no_variable_once_the_optimizer_is_built():
    lazy_created, lazy_losses = _fit(_model())
    assert lazy_created  # Keras builds the optimizer inside the first traced step: why the helper exists
    model = _model()
    with_optimizer_built(model, [(np.zeros((2, 4), "float32"),)])
    assert model.optimizer.built
    created, losses = _fit(model)
    assert created == []
    np.testing.assert_allclose(losses, lazy_losses, rtol=1e-5)  # the same training
