"""`training.build_training_state`: the optimizer's slots and the compiled metrics' state exist
before `fit` traces its first train step, so that step is traced once (no variable is created
inside it), and training is unchanged by it; the Tuner's trials are fitted the same way."""
from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.training import DefaultsFirstOracle, ProgressTuner, build_training_state


def _model(units: int = 8) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _data() -> tf.data.Dataset:
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")  # (N, 4)
    return tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).batch(16)  # (B, 4), (B, 1)


def _created_inside_functions(run: Callable[[], object]) -> tuple[list[str], object]:
    """(names of the variables created inside a traced function while `run` runs, what it returned)."""
    created = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            created.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        result = run()
    return created, result


def _fit(model: keras.Model) -> tuple[list[str], dict]:
    """(names of the variables created inside a traced function during fit, the history)."""
    created, history = _created_inside_functions(lambda: model.fit(_data(), validation_data=_data(), epochs=2, verbose=0))
    return created, history.history


@pytest.mark.slow
def test_the_train_step_creates_no_variable_once_the_state_is_built():
    lazy_created, lazy_history = _fit(_model())
    assert {"total", "count"} <= set(lazy_created)  # the metric's state, made inside the traced step
    assert any(name.endswith("_momentum") for name in lazy_created)  # and Adam's
    model = _model()
    build_training_state(model, _data().element_spec)
    assert model.optimizer.built
    created, history = _fit(model)
    assert created == []
    assert history.keys() == lazy_history.keys()
    for key, values in lazy_history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)  # the same training


@pytest.mark.slow
def test_a_tuners_trials_create_no_variable_inside_the_train_step(tmp_path):
    """A search space given as a build function (every task but decision, whose HyperModel builds
    the state in its own `fit`): each trial's state is built before its first trace."""
    tuner = ProgressTuner(oracle=DefaultsFirstOracle(objective="val_loss", max_trials=2, seed=0),
                          hypermodel=lambda hp: _model(hp.Int("units", 4, 8, default=8)),
                          directory=str(tmp_path), project_name="t", overwrite=True)  # fmt: skip
    created, _ = _created_inside_functions(lambda: tuner.search(x=_data(), validation_data=_data(), epochs=1, verbose=0))
    assert len(tuner.oracle.trials) == 2
    assert created == []
