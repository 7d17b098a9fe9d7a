"""The Tuner's first trial is the search space's defaults (components/training.py)."""
import keras
import keras_tuner
import numpy as np

from components.training import DefaultsFirstOracle


def test_first_trial_is_the_defaults_then_random_without_repeats(tmp_path):
    def build(hp):
        units = hp.Int("units", 4, 64, default=7)
        activation = hp.Choice("activation", ["relu", "tanh"], default="tanh")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation=activation), keras.layers.Dense(1)])
        model.compile("adam", "mse", run_eagerly=True)  # one step per trial: tracing it would cost more
        return model

    tuner = keras_tuner.Tuner(
        oracle=DefaultsFirstOracle(objective="val_loss", max_trials=4, seed=1),
        hypermodel=build, directory=str(tmp_path), project_name="t", overwrite=True,
    )  # fmt: skip
    x = np.random.default_rng(0).random((16, 3))
    tuner.search(x, x.sum(axis=1), validation_data=(x, x.sum(axis=1)), epochs=1, verbose=0)
    values = [t.hyperparameters.values for t in tuner.oracle.trials.values()]
    assert values[0] == {"units": 7, "activation": "tanh"}
    assert len(values) == 4 and len({tuple(sorted(v.items())) for v in values}) == 4
