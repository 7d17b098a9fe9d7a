"""A real Transform output for Trainer tests, in seconds instead of a TFX Transform run.

The time-series `preprocessing_fn` runs through tensorflow-transform's Beam implementation
in memory on windows of the synthetic series (tests/timeseries/fixtures.py): analysed on
train, applied to train and eval, and written as TFX's Transform writes them (the transform
graph folder, and gzipped tf.Example records per split), so that `run_fn` reads them through
TFX's own data accessor.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from tasks.timeseries import features
from tasks.timeseries.preprocessing import preprocessing_fn
from tests.timeseries.fixtures import COLUMN, series_frame

SPLITS = ("train", "eval")
TRANSFORM_GRAPH = "transform_graph"
EXAMPLES = "transformed_examples"


def raw_windows(rows: int, lookback: int, horizon: int, train_fraction: float) -> dict[str, list[dict]]:
    """{split: [{column: (lookback,), column_target: (horizon,)}]}, windows at stride 1, in time order."""
    values = series_frame(rows)[COLUMN].to_numpy(np.float32)  # (rows,)
    starts = np.arange(rows - lookback - horizon + 1)
    windows = [{features.window_key(COLUMN): values[s : s + lookback],
                features.target_key(COLUMN): values[s + lookback : s + lookback + horizon]} for s in starts]  # fmt: skip
    cut = int(len(windows) * train_fraction)
    return {"train": windows[:cut], "eval": windows[cut:]}


def write_transform_output(root: str, series, rows: int, train_fraction: float = 0.75) -> dict[str, str]:
    """The transform graph and transformed examples under `root`; {'transform_graph': dir,
    'examples': dir with Split-train/ and Split-eval/} (as TFX lays them out)."""
    splits = raw_windows(rows, series.lookback, series.horizon, train_fraction)
    spec = {features.window_key(COLUMN): tf.io.FixedLenFeature([series.lookback], tf.float32),
            features.target_key(COLUMN): tf.io.FixedLenFeature([series.horizon], tf.float32)}  # fmt: skip
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    custom_config = {"series": dataclasses.asdict(series)}
    graph_dir = os.path.join(root, TRANSFORM_GRAPH)
    with tft_beam.Context(temp_dir=os.path.join(root, "tmp"), force_tf_compat_v1=False):
        transform_fn = (splits["train"], metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: preprocessing_fn(inputs, custom_config)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(graph_dir)
        transformed = {name: ((splits[name], metadata), transform_fn) | tft_beam.TransformDataset() for name in SPLITS}
    metadata_io.write_metadata(metadata, os.path.join(graph_dir, tft.TFTransformOutput.RAW_METADATA_DIR))  # serving reads it
    examples_dir = os.path.join(root, EXAMPLES)
    for name, (rows_out, out_metadata) in transformed.items():
        coder = tft.coders.ExampleProtoCoder(out_metadata.schema)
        split_dir = os.path.join(examples_dir, f"Split-{name}")
        os.makedirs(split_dir, exist_ok=True)
        path = os.path.join(split_dir, "transformed_examples-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for row in rows_out:
                writer.write(coder.encode(row))
    return {"transform_graph": graph_dir, "examples": examples_dir}
