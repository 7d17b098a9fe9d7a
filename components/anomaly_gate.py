"""AnomalyGate: stop the run when ExampleValidator found anomalies.

ExampleValidator only records anomalies (../shared/stack.md); nothing downstream
stops. This component reads them and raises, naming each split, feature and
anomaly, so Transform, training and pushing never see bad data. The pipeline makes
Transform depend on it.
"""

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

SCHEMA_DIFF_FILE = "SchemaDiff.pb"  # ExampleValidator's per-split output


class DataValidationError(RuntimeError):
    """The examples do not match the curated schema."""


def describe_anomalies(anomalies: anomalies_pb2.Anomalies) -> list:
    """One line per anomaly: "feature 'x': <short description>: <description>"."""
    lines = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = [f"{r.short_description}: {r.description}" for r in info.reason] or [
            f"{info.short_description}: {info.description}"
        ]
        lines += [f"feature '{feature}': {reason}" for reason in reasons]
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        lines += [f"dataset: {r.short_description}: {r.description}" for r in info.reason]
    return lines


def read_anomalies(uri: str, split: str) -> anomalies_pb2.Anomalies:
    anomalies = anomalies_pb2.Anomalies()
    path = os.path.join(uri, f"Split-{split}", SCHEMA_DIFF_FILE)
    anomalies.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
    return anomalies


def check(uri: str, splits: list) -> None:
    """Raise DataValidationError listing every anomaly of every split."""
    problems = [
        f"[split {split}] {line}" for split in splits for line in describe_anomalies(read_anomalies(uri, split))
    ]
    if problems:
        raise DataValidationError(
            "Data validation failed; nothing was trained or pushed. Fix the data or, if the change "
            "is intended, update the curated schema. Anomalies:\n  " + "\n  ".join(problems)
        )


@component
def AnomalyGate(anomalies: InputArtifact[standard_artifacts.ExampleAnomalies], source_fingerprint: Parameter[str]) -> None:
    """Raises when any split of `anomalies` is not empty. `source_fingerprint`: cache key only."""
    del source_fingerprint
    check(anomalies.uri, artifact_utils.decode_split_names(anomalies.split_names))
    print("AnomalyGate: no anomalies in", artifact_utils.decode_split_names(anomalies.split_names))
