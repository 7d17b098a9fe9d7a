"""KeepBest: early stopping that can keep the starting weights when no epoch beats them; and the
progress lines of training (an epoch, a Tuner trial)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from components import training
from components.training import KeepBest
from data.config import PipelineConfig


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


@pytest.mark.slow
def test_keeps_the_best_epoch_when_training_helps():
    model, x, y = _regression(learning_rate=0.05)
    start_loss = model.evaluate(x, y, verbose=0)
    keep = KeepBest(start_loss, patience=2)
    model.fit(x, y, validation_data=(x, y), epochs=5, batch_size=32, verbose=0, callbacks=[keep])
    assert keep.best_epoch >= 1
    assert model.evaluate(x, y, verbose=0) < start_loss / 10


def _callback(monitor: str) -> KeepBest:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keep = KeepBest({"loss": 0.5, "accuracy": 0.90}, patience=3, monitor=monitor)
    keep.set_model(model)
    keep.on_train_begin()
    return keep


def test_on_accuracy_an_epoch_that_lowers_loss_but_loses_accuracy_is_not_kept():
    by_loss, by_accuracy = _callback("loss"), _callback("accuracy")
    for keep in (by_loss, by_accuracy):
        keep.on_epoch_end(0, {"loss": 0.2, "val_loss": 0.30, "val_accuracy": 0.85})  # sharper, less often right
        keep.on_epoch_end(1, {"loss": 0.2, "val_loss": 0.40, "val_accuracy": 0.90})  # as right as the start, lower loss
    assert by_loss.best_epoch == 1
    assert by_accuracy.best_epoch == 2  # the tie on accuracy goes to the lower loss
    by_accuracy.on_epoch_end(2, {"loss": 0.1, "val_loss": 0.45, "val_accuracy": 0.92})
    assert by_accuracy.best_epoch == 3


def test_an_unknown_metric_names_the_config_key():
    with pytest.raises(ValueError, match=r"trainer.keep_best_on.*'auc'.*\['accuracy', 'loss'\]"):
        KeepBest({"loss": 0.5, "accuracy": 0.9}, patience=2, monitor="auc")


@pytest.mark.slow
def test_progress_says_each_epoch_and_each_trial(tmp_path, caplog):
    """One line per epoch (`epoch n/N`, losses, time left) and per Tuner trial (score, best so far)."""
    import logging

    import keras_tuner

    from components.training import DefaultsFirstOracle, Progress, ProgressTuner
    from data.notices import PROGRESS_LOGGER

    x, y = np.linspace(-1, 1, 64)[:, None], np.linspace(-1, 1, 64)[:, None]

    def build(hp):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        lr = hp.Float("lr", 1e-3, 1e-1, default=1e-2)
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse", run_eagerly=True)  # a few steps: cheaper than tracing
        return model

    with caplog.at_level(logging.INFO, logger=PROGRESS_LOGGER):
        build(keras_tuner.HyperParameters()).fit(x, y, validation_data=(x, y), epochs=3, verbose=0, callbacks=[Progress("Trainer", 3)])
        oracle = DefaultsFirstOracle(objective="val_loss", max_trials=2, seed=0)
        tuner = ProgressTuner(oracle=oracle, hypermodel=build, directory=str(tmp_path), project_name="t")
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    lines = [r.getMessage() for r in caplog.records if r.name == PROGRESS_LOGGER]
    epochs = [line for line in lines if line.startswith("Trainer: epoch")]
    assert [line.split(",")[0] for line in epochs] == ["Trainer: epoch 1/3", "Trainer: epoch 2/3", "Trainer: epoch 3/3"]
    assert all("eval loss" in line and "s left" in line for line in epochs)
    trials = [line for line in lines if line.startswith("Tuner: trial")]
    assert [line.split(",")[0] for line in trials] == ["Tuner: trial 1/2", "Tuner: trial 2/2"] and "best" in trials[-1]


@pytest.mark.slow
def test_with_a_weight_average_the_average_is_evaluated_and_kept(tmp_path):
    """An optimizer with `use_ema` (the ViT's `model.ema`): `training.fit` validates and keeps the
    moving average of the weights, not the raw ones. At a momentum near 1 the average barely
    leaves the start, so its eval loss stays near the start's while the raw weights learn."""
    config = PipelineConfig(task="timeseries")
    config.trainer.epochs, config.trainer.patience, config.trainer.keep_best_on = 5, 5, "loss"
    histories, kept_losses = {}, {}
    for momentum in (0.0, 0.999):
        model, x, y = _regression(learning_rate=0.05)
        model.compile(optimizer=keras.optimizers.SGD(0.05, use_ema=momentum > 0, ema_momentum=momentum), loss="mse")
        start_loss = model.evaluate(x, y, verbose=0)
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
        history = training.fit(model, data, data, config, str(tmp_path / f"logs_{momentum}"))
        histories[momentum] = [start_loss, *history.history["val_loss"]]
        kept_losses[momentum] = model.evaluate(x, y, verbose=0)
        assert kept_losses[momentum] == pytest.approx(histories[momentum][history.kept_epoch], rel=1e-4)
    assert histories[0.0][-1] < histories[0.0][0] / 10  # the raw weights learn
    assert min(histories[0.999]) > 0.5 * histories[0.999][0]  # the average (what was validated) moved little
    assert kept_losses[0.999] > 0.5 * histories[0.999][0]  # and it is what was kept
