"""TimeSeriesExampleGen: a CSV in time order -> windowed tf.Examples split by time.

TFX's CsvExampleGen splits by hash and is row-wise, so it can neither keep time
order nor build windows (../shared/stack.md). This component does both, inside the
pipeline, by wrapping `tasks.timeseries.windowing`. It writes the Examples artifact in the
standard layout (`Split-<name>/data_tfrecord-*.gz`), so StatisticsGen, Transform
and Evaluator read it like any ExampleGen output, and records what it found
(frequency, gaps, windows per split) as custom properties in ML Metadata.

`data_fingerprint` (the file's content hash) and `source_fingerprint` (this code's)
are parameters so that caching reruns this component when the file or the code
changes, not only when the path does.
"""

import json

import tensorflow as tf
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import examples_io
from data.config import SeriesConfig
from data.notices import notices
from tasks.timeseries import windowing


def to_tf_example(raw: dict) -> tf.train.Example:
    """{key: {"float_list": [...]} | {"bytes_list": [...]}} -> tf.train.Example."""
    feature = {}
    for key, value in raw.items():
        if "float_list" in value:
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value["float_list"]))
        else:
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=value["bytes_list"]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_windows(csv_path: str, series: SeriesConfig, output_uri: str) -> "windowing.SeriesReport":
    """Window the CSV and write one gzipped TFRecord file per split under `output_uri`."""
    frame = windowing.read_series(csv_path, series.time_column)
    try:
        plan, report = windowing.plan_windows(frame, series)
    except windowing.SeriesError as error:  # name the file, as read_series does
        raise windowing.SeriesError(f"{csv_path}: {error}") from None
    for split, (part, starts) in plan.items():
        rows = windowing.iter_windows(
            part, starts, series.input_columns, series.target_columns, series.lookback, series.horizon
        )
        examples_io.write_split(output_uri, split, (to_tf_example(raw) for raw in rows))
    return report


@component
def TimeSeriesExampleGen(
    examples: OutputArtifact[standard_artifacts.Examples],
    csv_path: Parameter[str],
    data_fingerprint: Parameter[str],
    source_fingerprint: Parameter[str],
    series_config: Parameter[str],
) -> None:
    """Windows `csv_path` per `series_config` (a SeriesConfig as JSON) into `examples`."""
    del data_fingerprint, source_fingerprint  # only part of the cache key (pipeline/fingerprint.py)
    series = SeriesConfig(**json.loads(series_config))
    report = write_windows(csv_path, series, examples.uri)
    examples_io.describe(examples, windowing.SPLITS, csv_path, report.split_windows, "windows")
    examples.set_string_custom_property("series_report", json.dumps(report.__dict__))
    examples.set_int_custom_property("missing_timestamps", report.missing_timestamps)
    if report.gaps:
        notices().warning(
            f"TimeSeriesExampleGen: {report.gaps} gap(s) in the series ({report.missing_timestamps} "
            f"missing timestamp(s) at frequency {report.frequency}); no window spans a gap. "
            f"First: {report.first_gaps}"
        )
