"""What the pipeline benchmarks read back from a run: executions, component rows, epochs."""
from __future__ import annotations

import glob
import os

import tensorflow as tf

from pipeline import mlmd


def latest_run(metadata_path: str):
    """(run context, its executions) of the newest run in the store."""
    store = mlmd.open_store(metadata_path)
    run = mlmd.runs(store)[-1]
    return run, mlmd.run_executions(store, run)


def model_of_run(config, by_node: dict) -> tuple[str, bool]:
    """(SavedModel dir, pushed?): the model the run pushed, else its candidate (never pushed)."""
    from tfx.utils.path_utils import serving_model_path

    from serving import serving_model
    pushed = mlmd.custom(by_node["Pusher"].outputs["pushed_model"][0], "pushed") == 1
    if pushed:
        return serving_model.latest_model_dir(config.serving_dir), True
    return serving_model_path(by_node["Trainer"].outputs["model"][0].uri), False


def scored_run(metadata_path: str) -> dict:
    """What the vision and speech benchmarks read from the newest run: its executions by node,
    the Scorer's scores, the Trainer's seconds and epochs, the train examples, and the verdict."""
    import json

    from components.scoring import SCORES_PROPERTY

    _, executions = latest_run(metadata_path)
    by_node = {e.node: e for e in executions}
    trainer = by_node["Trainer"]
    return {
        "by_node": by_node,
        "scores": json.loads(mlmd.custom(by_node["Scorer"].outputs["scores"][0], SCORES_PROPERTY)),
        "trainer_seconds": trainer.seconds,
        "epochs": epochs_trained(trainer.outputs["model_run"][0].uri),
        "train_count": mlmd.custom(by_node["ExampleGen"].outputs["examples"][0], "examples_train"),
        "blessed": mlmd.custom(by_node["Evaluator"].outputs["blessing"][0], "blessed") == 1,
    }


def transform_outputs(by_node: dict) -> tuple[str, str]:
    """(transform graph URI, transformed examples URI) of a run's Transform."""
    outputs = by_node["Transform"].outputs
    return outputs["transform_graph"][0].uri, outputs["transformed_examples"][0].uri


def best_hyperparameters(by_node: dict):
    """The run's Tuner's best hyperparameters (`best_hyperparameters.txt`, as TFX's Tuner writes them)."""
    import json

    import keras_tuner

    uri = by_node["Tuner"].outputs["best_hyperparameters"][0].uri
    with open(os.path.join(uri, "best_hyperparameters.txt")) as handle:
        return keras_tuner.HyperParameters.from_config(json.load(handle))


def component_rows(executions) -> list[dict]:
    """One table row per component: seconds and state (COMPLETE, CACHED...)."""
    return [{"row": f"  {e.node}", "seconds": e.seconds, "note": e.state} for e in executions]


def epochs_trained(model_run_uri: str) -> int:
    """Epochs the Trainer ran (early stopping included), from its TensorBoard logs."""
    epochs = 0
    for path in glob.glob(os.path.join(model_run_uri, "train", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            epochs += sum(value.tag == "epoch_loss" for value in event.summary.value)
    return epochs
