"""Write an Examples artifact in the layout every TFX component reads.

`Split-<name>/data_tfrecord-00000-of-00001.gz` (gzipped TFRecords of tf.Examples),
plus the artifact properties StatisticsGen, Transform and the Evaluator rely on.
Shared by our ExampleGens, which differ only in how rows become examples; `read_split`
reads a split back for the Scorer, the report and the benchmarks.
"""

import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import tensorflow as tf
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from data.splits import GATE_FRACTION, GATE_SPLIT, SPLITS, hashed_unit

SPLIT_FILE = "data_tfrecord-00000-of-00001.gz"
CHUNK = 1024  # serialized examples read at a time by the streaming readers (12 MB of ETTh2 windows)


def write_records(output_uri: str, split: str, records: Iterable[bytes]) -> int:
    """Write one split's serialized examples; returns how many."""
    split_dir = os.path.join(output_uri, f"Split-{split}")
    tf.io.gfile.makedirs(split_dir)
    count = 0
    with tf.io.TFRecordWriter(os.path.join(split_dir, SPLIT_FILE), options="GZIP") as writer:
        for record in records:
            writer.write(record)
            count += 1
    return count


def write_split(output_uri: str, split: str, examples: Iterable[tf.train.Example]) -> int:
    """Write one split's examples; returns how many."""
    return write_records(output_uri, split, (example.SerializeToString() for example in examples))


def write_frame(output_uri: str, frame, splits, features_of: Callable) -> dict[str, int]:
    """Write each row of `frame` (a DataFrame) to the split `splits` names for it (an array of
    "train" | "eval" | "test", one per row), as `to_tf_example(features_of(row))`, `row` a
    namedtuple of its columns; returns the examples per split."""
    return {
        split: write_split(output_uri, split, (to_tf_example(features_of(row)) for row in frame[splits == split].itertuples(index=False)))
        for split in SPLITS
    }


def _first_value(record: bytes, key: str):
    feature = tf.train.Example.FromString(record).features.feature[key]
    values = feature.bytes_list.value or feature.int64_list.value or feature.float_list.value
    return values[0] if values else None


def carve_gate(output_uri: str, ordered: bool, purge: int = 0, seed: int = 0, stratify: str | None = None,
               stable: bool = False) -> dict[str, int]:  # fmt: skip
    """Cut the written eval split into `eval` (selection) and `eval_gate` (the paired gate's), GATE_FRACTION
    of it for the gate: for `ordered` examples (forecast windows in time order) the later part, after
    dropping `purge` windows at the cut whose targets overlap the selection part's; otherwise a seeded
    random part, drawn within each value of the feature `stratify` (the label) when given so that
    both parts keep the eval split's class balance, each part keeping the file order. Returns the
    two parts' counts. `stable` (data that arrive as spans): an example goes to the gate by a seeded
    hash of its content instead, so that it stays in its part as spans arrive, and a model kept on
    the selection part is never judged on it later (class balance then holds in expectation only).
    Too small a part is not an error here: data validation names what is wrong with such data first, and the Evaluator
    refuses a gate part too small to judge on."""
    # What decides the parts is read first, one small value per example (a label, a hash), never
    # the records; then the split is streamed into its two parts: memory does not grow with it.
    records = lambda: (r for chunk in iter_split(output_uri, "eval", CHUNK) for r in chunk)  # noqa: E731
    if ordered:
        n = sum(1 for _ in records())
        size = int(round(n * GATE_FRACTION))
        purge = min(purge, max(0, n - size - 1))
        gate, selection = range(n - size, n), range(0, n - size - purge)
    else:
        if stable:
            units = [hashed_unit(tf.train.Example.FromString(r).SerializeToString(deterministic=True), seed) for r in records()]
            gate = {i for i, unit in enumerate(units) if unit < GATE_FRACTION}
        else:
            rng = np.random.default_rng(seed)
            groups: dict = {}
            for i, record in enumerate(records()):
                groups.setdefault(_first_value(record, stratify) if stratify else None, []).append(i)
            gate = set()
            for members in groups.values():  # in first-seen order: deterministic for a seed
                gate.update(rng.permutation(members)[: int(round(len(members) * GATE_FRACTION))].tolist())
        selection = None  # every example the gate does not take
    return _split_eval(output_uri, records(), gate, selection)


def _split_eval(output_uri: str, records: Iterable[bytes], gate, selection) -> dict[str, int]:
    """Stream the eval split into the gate part (indices `gate`) and the selection part (indices
    `selection`, None: all others; an index in neither is dropped), both in file order; the
    selection part is staged beside the split and then replaces it."""
    eval_dir, staging = os.path.join(output_uri, "Split-eval"), os.path.join(output_uri, "Split-eval.carving")
    gate_dir = os.path.join(output_uri, f"Split-{GATE_SPLIT}")
    for folder in (staging, gate_dir):
        tf.io.gfile.makedirs(folder)
    counts = {"eval": 0, GATE_SPLIT: 0}
    with tf.io.TFRecordWriter(os.path.join(staging, SPLIT_FILE), options="GZIP") as keep, \
            tf.io.TFRecordWriter(os.path.join(gate_dir, SPLIT_FILE), options="GZIP") as judge:  # fmt: skip
        for i, record in enumerate(records):
            if i in gate:
                judge.write(record)
                counts[GATE_SPLIT] += 1
            elif selection is None or i in selection:
                keep.write(record)
                counts["eval"] += 1
    for old in tf.io.gfile.glob(os.path.join(eval_dir, "*")):
        tf.io.gfile.remove(old)
    tf.io.gfile.rename(os.path.join(staging, SPLIT_FILE), os.path.join(eval_dir, SPLIT_FILE))
    tf.io.gfile.rmtree(staging)
    return counts


def read_split(examples_uri: str, split: str, limit: int | None = None) -> list[bytes]:
    """The serialized tf.Examples of one split (the first `limit` of them when given)."""
    files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"no examples for split '{split}' under {examples_uri}")
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [record.numpy() for record in (dataset.take(limit) if limit else dataset)]


def iter_split(examples_uri: str, split: str, chunk: int) -> Iterator[list[bytes]]:
    """The serialized tf.Examples of one split, `chunk` at a time: for readers whose memory
    must not grow with the split (the time-series Scorer)."""
    files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"no examples for split '{split}' under {examples_uri}")
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(chunk).as_numpy_iterator():
        yield list(batch)


def first_strings(records: list[bytes], key: str) -> list[str]:
    """The first value of the bytes feature `key` of each serialized example, decoded (labels, transcripts)."""
    return [tf.train.Example.FromString(r).features.feature[key].bytes_list.value[0].decode() for r in records]


def describe(artifact, splits: Iterable[str], source: str, counts: dict[str, int], count_name: str) -> None:
    """Split names, span, payload format, the source file and per-split counts on the artifact."""
    artifact.split_names = artifact_utils.encode_split_names(list(splits))
    artifact.span = 0
    examples_utils.set_payload_format(artifact, example_gen_pb2.FORMAT_TF_EXAMPLE)
    artifact.set_string_custom_property("source", source)
    for split, count in counts.items():
        artifact.set_int_custom_property(f"{count_name}_{split}", count)


def to_tf_example(values: dict) -> tf.train.Example:
    """The one way a raw example is built, by the ExampleGens and by serving clients alike.

    {key: value}; a value is a str or bytes (one bytes value), a list of them, an int, a
    float, or a list/array of numbers (a float array gives floats, an integer or boolean
    array int64s: give arrays their dtype). None values are left out, so the schema's
    presence checks see them missing."""
    import numpy as np

    feature = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, str | bytes):
            value = [value]
        if isinstance(value, list) and value and all(isinstance(v, str | bytes) for v in value):
            encoded = [v.encode("utf-8") if isinstance(v, str) else v for v in value]
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded))
            continue
        array = np.asarray(value).reshape(-1)
        if array.dtype.kind in "iub":
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=array.astype(np.int64)))
        elif array.dtype.kind == "f" or array.size == 0:
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=array.astype(np.float32)))
        else:
            raise TypeError(f"feature '{key}': cannot write values of type {array.dtype} to a tf.Example")
    return tf.train.Example(features=tf.train.Features(feature=feature))
