"""TextExampleGen: a CSV of labelled texts -> tf.Examples in seeded train/eval/test splits.

TFX's CsvExampleGen splits by hash: neither seeded nor stratified (../shared/stack.md).
This component splits with `tasks.text.source.split_rows` (a seeded permutation, per
class when `text.stratify`), writes the standard Examples layout
(`Split-<name>/data_tfrecord-*.gz`) and adds a raw `length_bucket` feature so the
Evaluator can slice metrics by text length. Column names are mapped to the keys of
`data.features`, so the curated schema does not depend on the user's CSV header.

A row whose text is missing keeps no `text` feature, and a label is written as found:
the curated schema's presence and string domain then stop the run at the AnomalyGate.
"""

import json

import tensorflow as tf
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import examples_io
from data import features
from data.config import TextConfig
from data.splits import SPLITS, check_classes_in_train, subsample
from tasks.text import source as text_source


def to_tf_example(values: dict) -> tf.train.Example:
    """{key: str | None} -> a tf.Example of bytes features; None values are left out."""
    feature = {
        key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))
        for key, value in values.items()
        if value is not None
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_splits(csv_path: str, text: TextConfig, seed: int, output_uri: str) -> tuple[dict, int]:
    """Write one gzipped TFRecord file per split under `output_uri`; returns (counts per split,
    duplicate rows kept together)."""
    frame = subsample(text_source.read_texts(csv_path, text), text.max_examples, seed)
    splits, duplicates = text_source.split_rows(frame, text, seed)
    check_classes_in_train(frame[features.LABEL_KEY], splits, csv_path, text_source.UNSEEN_CLASS_REMEDY)
    counts = {}
    for split in SPLITS:
        rows = frame[splits == split]
        counts[split] = examples_io.write_split(
            output_uri,
            split,
            (
                to_tf_example({
                    features.TEXT_KEY: value,
                    features.LABEL_KEY: label,
                    features.LENGTH_BUCKET_KEY: text_source.length_bucket(value, text),
                })
                for value, label in zip(rows[features.TEXT_KEY], rows[features.LABEL_KEY], strict=True)
            ),
        )
    return counts, duplicates


@component
def TextExampleGen(
    examples: OutputArtifact[standard_artifacts.Examples],
    csv_path: Parameter[str],
    data_fingerprint: Parameter[str],
    source_fingerprint: Parameter[str],
    text_config: Parameter[str],
    seed: Parameter[int],
) -> None:
    """Splits `csv_path` per `text_config` (a TextConfig as JSON) into `examples`."""
    del data_fingerprint, source_fingerprint  # only part of the cache key (pipeline/fingerprint.py)
    text = TextConfig(**json.loads(text_config))
    counts, duplicates = write_splits(csv_path, text, seed, examples.uri)
    examples_io.describe(examples, SPLITS, csv_path, counts, "examples")
    examples.set_int_custom_property("duplicate_texts", duplicates)
    source = f"the CSV's split column '{text.split_column}'" if text.split_column else "a seeded split"
    print(
        f"TextExampleGen: {counts} examples from {csv_path} ({source}); {duplicates} duplicate text(s) "
        "(same after case and whitespace normalisation)" + ("" if text.split_column else ", each kept in one split")
    )
