"""The Tuner's first trial is the search space's defaults (components/training.py)."""
import keras
import keras_tuner

from components.training import DefaultsFirstOracle


def test_first_trial_is_the_defaults_then_random_without_repeats(tmp_path):
    """The oracle driven as a Tuner drives it (create, report, end each trial), without the fits:
    a Tuner's search of four one-step trials cost 9 s for the same trial values."""
    oracle = DefaultsFirstOracle(objective="val_loss", max_trials=4, seed=1)
    oracle._set_project_dir(str(tmp_path), "t")
    space = keras_tuner.HyperParameters()
    space.Int("units", 4, 64, default=7)
    space.Choice("activation", ["relu", "tanh"], default="tanh")
    oracle.update_space(space)
    values = []
    for score in range(4):
        trial = oracle.create_trial("tuner0")
        assert trial.status == "RUNNING"
        values.append(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"val_loss": float(score)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert values[0] == {"units": 7, "activation": "tanh"}
    assert len(values) == 4 and len({tuple(sorted(v.items())) for v in values}) == 4
    assert oracle.create_trial("tuner0").status == "STOPPED"  # max_trials reached


def test_one_trial_trains_nothing_and_writes_the_defaults(tmp_path):
    """`tuner.max_trials: 1`: the defaults are the answer without a fit (no data is even given), and
    TFX's Tuner executor writes them as the best hyperparameters, the Trainer's input."""
    import json

    from tfx.components.tuner import executor
    from tfx.types import standard_artifacts

    from components.training import ProgressTuner

    built = []

    def build(hp):
        built.append(hp.values)
        units = hp.Int("units", 4, 64, default=7)
        if hp.Boolean("deep", default=False):
            units += hp.Int("extra", 1, 3, default=2)  # active only when deep: not among the defaults
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units), keras.layers.Dense(1)])

    tuner = ProgressTuner(
        oracle=DefaultsFirstOracle(objective="val_loss", max_trials=1, seed=1),
        hypermodel=build, directory=str(tmp_path), project_name="t", overwrite=True,
    )  # fmt: skip
    assert built  # KerasTuner built the model to read the space: a config that cannot build fails here
    tuner.search(x=None, validation_data=None, epochs=1)  # a fit would fail on x=None
    outputs = {}
    for key, artifact in (("best_hyperparameters", standard_artifacts.HyperParameters()),
                          ("tuner_results", standard_artifacts.TunerResults())):  # fmt: skip
        artifact.uri = str(tmp_path / key)
        (tmp_path / key).mkdir()
        outputs[key] = [artifact]
    executor.write_best_hyperparameters(tuner, outputs)
    best = keras_tuner.HyperParameters.from_config(json.loads((tmp_path / "best_hyperparameters" / "best_hyperparameters.txt").read_text()))
    assert best.values == {"units": 7, "deep": False}
    assert best.get("units") == 7 and not tuner.oracle.trials
    assert json.loads((tmp_path / "tuner_results" / "tuner_results.json").read_text()) == []
