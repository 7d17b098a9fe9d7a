"""One process of a distributed KerasTuner search (`tuner.parallel_trials`), as TFX's Vertex Tuner
runs one per replica: the project's ProgressTuner and DefaultsFirstOracle on a tiny model.

    KERASTUNER_TUNER_ID=chief|tunerN KERASTUNER_ORACLE_IP=... KERASTUNER_ORACLE_PORT=... \\
        python -m tests.distributed_tuner_run DIR MAX_TRIALS

The chief serves the oracle until every trial has ended, then prints `best <values JSON>`;
a worker runs the trials the chief hands it and prints the progress lines it logs.
"""
from __future__ import annotations

import json
import logging
import os
import sys


def main(directory: str, max_trials: int) -> None:
    import keras
    import numpy as np

    from components.training import DefaultsFirstOracle, ProgressTuner
    from data.notices import progress

    progress().addHandler(logging.StreamHandler(sys.stdout))  # each line once: not also through the root logger
    progress().setLevel(logging.INFO)
    progress().propagate = False

    def build(hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("units", 2, 32, default=7)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(hp.Float("lr", 1e-3, 1e-1, sampling="log", default=1e-2)), "mse", run_eagerly=True)
        return model

    tuner = ProgressTuner(oracle=DefaultsFirstOracle(objective="val_loss", max_trials=max_trials, seed=1),
                          hypermodel=build, directory=directory, project_name="t")  # fmt: skip
    x = np.random.default_rng(0).random((32, 3))
    tuner.search(x, x.sum(axis=1), validation_data=(x, x.sum(axis=1)), epochs=1, verbose=0)
    if os.environ["KERASTUNER_TUNER_ID"] == "chief":
        trials = tuner.oracle.trials.values()
        print("trials " + json.dumps({t.trial_id: [t.status, t.hyperparameters.values] for t in trials}), flush=True)
        print("best " + json.dumps(tuner.get_best_hyperparameters()[0].values), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
