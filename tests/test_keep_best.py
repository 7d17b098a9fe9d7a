"""KeepBest: early stopping that can keep the starting weights when no epoch beats them."""
from __future__ import annotations

import keras
import numpy as np

from components.training import KeepBest


def _regression(learning_rate: float):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model, x, y


def test_keeps_the_start_when_every_epoch_is_worse():
    model, x, y = _regression(learning_rate=5.0)  # diverges
    model.layers[0].set_weights([np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")])  # the exact solution
    start = model.get_weights()
    keep = KeepBest(model.evaluate(x, y, verbose=0), patience=2)
    model.fit(x, y, validation_data=(x, y), epochs=5, verbose=0, callbacks=[keep])
    assert keep.best_epoch == 0
    np.testing.assert_array_equal(model.get_weights()[0], start[0])


def test_keeps_the_best_epoch_when_training_helps():
    model, x, y = _regression(learning_rate=0.05)
    start_loss = model.evaluate(x, y, verbose=0)
    keep = KeepBest(start_loss, patience=2)
    model.fit(x, y, validation_data=(x, y), epochs=5, batch_size=32, verbose=0, callbacks=[keep])
    assert keep.best_epoch >= 1
    assert model.evaluate(x, y, verbose=0) < start_loss / 10
