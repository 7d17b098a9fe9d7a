"""AnomalyGate: stop the run when ExampleValidator found anomalies, or eval/test drifted from train.

ExampleValidator only records anomalies (../shared/stack.md); nothing downstream
stops. This component reads them and raises, naming each split, feature and
anomaly, and the first examples that break it (an image by its file; see
components/anomaly_rows.py), so Transform, training and pushing never see bad data.
The pipeline makes Transform depend on it.

ExampleValidator checks each split against the schema alone. Drift between splits
(the eval data no longer looks like what the model trains on) needs a comparison:
the gate validates the eval and test statistics against train's with the drift
comparators the curated schema declares (TFDV's Jensen-Shannon divergence for
numbers, L-infinity distance for categories; thresholds explained in each schema).
"""

import json
import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from components import anomaly_rows, examples_io
from components.curated_schema import SCHEMA_FILE
from data import schemas

SCHEMA_DIFF_FILE = "SchemaDiff.pb"  # ExampleValidator's per-split output
STATISTICS_FILE = "FeatureStats.pb"  # StatisticsGen's per-split output


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


def drift_anomalies(statistics_uri: str, schema: schema_pb2.Schema, split: str) -> anomalies_pb2.Anomalies:
    """Only the drift comparisons of `split` against train (schema checks are ExampleValidator's)."""
    import tensorflow_data_validation as tfdv

    def load(name: str):
        return tfdv.load_stats_binary(os.path.join(statistics_uri, f"Split-{name}", STATISTICS_FILE))

    found = tfdv.validate_statistics(load(split), schema, previous_statistics=load("train"))
    drift = anomalies_pb2.Anomalies()
    for feature, info in found.anomaly_info.items():
        reasons = [r for r in info.reason if anomalies_pb2.AnomalyInfo.Type.Name(r.type).startswith("COMPARATOR_")]
        if reasons:
            drift.anomaly_info[feature].reason.extend(reasons)
    return drift


def has_drift_comparators(schema: schema_pb2.Schema) -> bool:
    return any(f.HasField("drift_comparator") for f in schema.feature)


def with_examples(lines: list[str], anomalies: anomalies_pb2.Anomalies, examples_uri: str | None,
                  split: str, schema: schema_pb2.Schema | None, example_names: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
    """`lines` followed by the examples that break each anomalous feature (components/anomaly_rows.py)."""
    if not lines or examples_uri is None or schema is None:
        return lines
    records = examples_io.read_split(examples_uri, split)
    found = anomaly_rows.offending_examples(records, schema, list(anomalies.anomaly_info), example_names)
    return lines + [f"  feature '{name}' in {row}" for name, rows in found.items() for row in rows]


def check(uri: str, splits: list, statistics_uri: str | None = None, schema: schema_pb2.Schema | None = None,
          examples_uri: str | None = None, example_names: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Raise DataValidationError listing every anomaly of every split (and, with `examples_uri`,
    the examples that break it), and any drift from train."""
    problems = []
    for split in splits:
        anomalies = read_anomalies(uri, split)
        lines = with_examples(describe_anomalies(anomalies), anomalies, examples_uri, split, schema, example_names)
        problems += [f"[split {split}] {line}" for line in lines]
    if statistics_uri and schema is not None and has_drift_comparators(schema) and "train" in splits:
        problems += [
            f"[split {split} vs train] {line}"
            for split in splits if split != "train"
            for line in describe_anomalies(drift_anomalies(statistics_uri, schema, split))
        ]  # fmt: skip
    if problems:
        raise DataValidationError(
            "Data validation failed; nothing was trained or pushed. Fix the data or, if the change "
            "is intended, update the curated schema. Anomalies:\n  " + "\n  ".join(problems)
        )


@component
def AnomalyGate(
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    schema: InputArtifact[standard_artifacts.Schema],
    examples: InputArtifact[standard_artifacts.Examples],
    source_fingerprint: Parameter[str],
    example_names: Parameter[str] = "[]",
) -> None:
    """Raises when any split of `anomalies` is not empty or drifted, naming the examples that
    break the schema by `example_names` (a JSON list of raw features). `source_fingerprint`: cache key only."""
    del source_fingerprint
    curated = schemas.load(os.path.join(schema.uri, SCHEMA_FILE))
    splits = artifact_utils.decode_split_names(anomalies.split_names)
    check(anomalies.uri, splits, statistics.uri, curated, examples.uri, tuple(json.loads(example_names)))
    print("AnomalyGate: no anomalies in", splits)
