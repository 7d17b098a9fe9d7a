"""A run's artifacts as the report reads them (found through `make inspect`'s record of the run)."""
from __future__ import annotations

from data import features


def artifact_uri(report: dict, node: str, key: str) -> str | None:
    return next((a["uri"] for a in report["artifacts"] if a["node"] == node and a["key"] == key), None)


def test_examples(report: dict, limit: int | None = None) -> list[bytes]:
    from components import examples_io

    return examples_io.read_split(artifact_uri(report, "ExampleGen", "examples") or "", "test", limit)


def serving_function(report: dict):
    import tensorflow as tf

    if not report["pushed_models"]:
        raise LookupError("no model has been pushed")
    model = tf.saved_model.load(report["pushed_models"][-1]["destination"])
    return model, model.signatures["serving_default"]


def candidate_model(report: dict):
    """The run's candidate (the Trainer's model, pushed or not) and a description of it."""
    import tensorflow as tf
    from tfx.utils import path_utils

    uri = artifact_uri(report, "Trainer", "model")
    if uri:
        return tf.saved_model.load(path_utils.serving_model_path(uri)), "this run's candidate"
    model, _ = serving_function(report)
    return model, f"pushed model {report['pushed_models'][-1]['version']}"


def test_predictions(
    report: dict, limit: int = 2000, truth_key: str = features.LABEL_KEY, output_key: str = features.PREDICTED_LABEL_KEY
):
    """(test records, actual labels, predicted labels, which model) of the run's candidate: a
    classifier's by default; `truth_key` (raw feature) and `output_key` (serving output) say otherwise."""
    from components import examples_io, export

    records = test_examples(report, limit=limit)
    model, which = candidate_model(report)
    outputs = export.call_in_batches(model.signatures[export.SERVING_SIGNATURE], records, 128)
    predicted = [v.decode() for v in outputs[output_key].reshape(-1)]
    actual = examples_io.first_strings(records, truth_key)
    return records, actual, predicted, which
