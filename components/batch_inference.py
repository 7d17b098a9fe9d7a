"""Batch predictions on Beam: a file of raw tf.Examples scored by a pushed SavedModel.

`make predict-batch` (pipeline/predict_batch.py) builds this graph; a task says, through its
TaskSpec's `batch_prediction` module, how its DATA becomes keyed raw tf.Examples and how one
example's outputs become columns. Everything here is shared and names no task.

    Create([data]) -> read (the task's) -> Reshuffle -> RunInference(SignatureHandler) -> columns -+-> OUT
                                       \\-> rows the task could not turn into an example -----------+-> OUT.errors.csv

Why a handler of our own: Beam's TensorFlow handlers load with `tf.keras.models.load_model`,
which Keras 3 refuses for a SavedModel folder, and TFX's BulkInferrer cannot read Keras 3
SavedModels (tensorflow/tfx#7782). `SignatureHandler` calls the SavedModel's `serving_default`
on serialized tf.Examples, the same function TF Serving and `make predict` call, so a batch
prediction is the deployed model's answer and nothing else. The graph holds only strings and
module-level functions (partials of them), so it pickles for the multi-processing DirectRunner
and for Dataflow alike.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import (
    KeyedModelHandler,
    ModelHandler,
    PredictionResult,
    RunInference,
)

from components.export import EXAMPLES_INPUT, SERVING_SIGNATURE

KEY_COLUMN = "key"  # the input's key: what a task names an input by (a window's last time, a row number)
VERSION_COLUMN = "model_version"  # the pushed version that made the prediction
REASON_COLUMN = "reason"  # the errors file: why an input got no prediction
ERRORS_SUFFIX = ".errors.csv"  # <OUT>.errors.csv: the inputs that got no prediction
JSONL_SUFFIX = ".jsonl"  # OUT ending so is written as JSON Lines, anything else as CSV
METRICS_NAMESPACE = "batch_inference"
PREDICTED, FAILED = "predicted", "failed"  # Beam counters, read back by the CLI
MIN_BATCH, MAX_BATCH = 16, 512  # examples per call of the signature (RunInference's batching)


@dataclasses.dataclass(frozen=True)
class Failed:
    """An input the model refused (its batch failed, then it failed alone)."""

    reason: str


class _Loaded:
    """The loaded SavedModel and its signature: the root is held so that its variables live."""

    def __init__(self, model_dir: str, signature: str):
        import tensorflow as tf

        self.root = tf.saved_model.load(model_dir)
        self.signature = self.root.signatures[signature]


class SignatureHandler(ModelHandler[bytes, PredictionResult, _Loaded]):
    """Serialized raw tf.Examples in, one `{output: value (per-example shape)}` per example out.

    A batch the signature refuses (one malformed example fails the whole `parse_example`) is
    retried one example at a time, so one bad input costs only its own row: its result's
    `inference` is a `Failed` with TensorFlow's message."""

    def __init__(self, model_dir: str, signature: str = SERVING_SIGNATURE, min_batch: int = MIN_BATCH,
                 max_batch: int = MAX_BATCH):  # fmt: skip
        super().__init__()
        self._model_dir = model_dir
        self._signature = signature
        self._batching = {"min_batch_size": min_batch, "max_batch_size": max_batch}

    def load_model(self) -> _Loaded:
        return _Loaded(self._model_dir, self._signature)

    def batch_elements_kwargs(self) -> dict[str, int]:
        return dict(self._batching)

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE

    def run_inference(self, batch: Sequence[bytes], model: _Loaded, inference_args: dict | None = None) -> Iterable[PredictionResult]:
        try:
            return list(_results(batch, _call(model.signature, batch)))
        except Exception:  # noqa: BLE001  (any TensorFlow error: find the example(s) that cause it)
            if len(batch) == 1:
                return [PredictionResult(batch[0], Failed(_reason(model.signature, batch[0])))]
            return [result for one in batch for result in self.run_inference([one], model)]


def _call(signature, batch: Sequence[bytes]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    outputs = signature(**{EXAMPLES_INPUT: tf.constant(list(batch))})
    return {key: value.numpy() for key, value in outputs.items()}  # each (B, ...)


def _results(batch: Sequence[bytes], outputs: dict[str, np.ndarray]) -> Iterable[PredictionResult]:
    for i, example in enumerate(batch):
        yield PredictionResult(example, {key: value[i] for key, value in outputs.items()})


def _reason(signature, example: bytes) -> str:
    try:
        _call(signature, [example])
    except Exception as error:  # noqa: BLE001
        return f"the model refused it: {type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
    return "the model refused its batch"  # not reached for a deterministic model


# -- the graph's steps: module-level so that they pickle -------------------------------------------------
def numbered(data: str, read: Callable[[str], Iterable[tuple]]) -> Iterable[tuple]:
    """(position, key, example bytes or None, reason or None) per input, in the task's order."""
    for position, item in enumerate(read(data)):
        key, example, reason = (*item, None) if len(item) == 2 else item
        yield position, str(key), example, reason


def is_error(item: tuple, partitions: int) -> int:
    return int(item[2] is None)


def keyed(item: tuple) -> tuple[tuple[int, str], bytes]:
    position, key, example, _ = item
    return (position, key), example


def error_row(item: tuple) -> tuple[int, dict]:
    beam.metrics.Metrics.counter(METRICS_NAMESPACE, FAILED).inc()
    position, key, _, reason = item
    return position, {KEY_COLUMN: key, REASON_COLUMN: reason or "no example"}


def prediction_row(item: tuple, columns: Callable[[dict], dict], version: int) -> tuple[bool, int, dict]:
    """(is a prediction, position, row): a prediction's columns, or a refused input's reason."""
    (position, key), result = item
    if isinstance(result.inference, Failed):
        beam.metrics.Metrics.counter(METRICS_NAMESPACE, FAILED).inc()
        return False, position, {KEY_COLUMN: key, REASON_COLUMN: result.inference.reason}
    beam.metrics.Metrics.counter(METRICS_NAMESPACE, PREDICTED).inc()
    return True, position, {KEY_COLUMN: key, **columns(result.inference), VERSION_COLUMN: version}


def is_refused(item: tuple, partitions: int) -> int:
    return int(not item[0])


def dropped_flag(item: tuple) -> tuple[int, dict]:
    return item[1], item[2]


# -- writing: one file, rows in the inputs' order ----------------------------------------------------------
def flat(row: dict) -> dict:
    """A row for a CSV: a list becomes `<name>_1 .. <name>_n` (a forecast's steps ahead), a dict
    `<name>_<its key>` (a class's probability)."""
    out = {}
    for name, value in row.items():
        if isinstance(value, dict):
            out.update(flat({f"{name}_{k}": v for k, v in value.items()}))
        elif isinstance(value, list | tuple):
            out.update(flat({f"{name}_{i}": v for i, v in enumerate(value, start=1)}))
        else:
            out[name] = value
    return out


def render(rows: list[dict], jsonl: bool) -> str:
    if jsonl:
        return "".join(json.dumps(row) + "\n" for row in rows)
    rows = [flat(row) for row in rows]
    header = list(dict.fromkeys(name for row in rows for name in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_rows(numbered_rows: list[tuple[int, dict]], path: str, skip_empty: bool = False) -> int:
    """Write the rows sorted by position to `path` (local or a bucket); returns how many."""
    if skip_empty and not numbered_rows:
        return 0
    rows = [row for _, row in sorted(numbered_rows, key=lambda item: item[0])]
    with FileSystems.create(path) as handle:
        handle.write(render(rows, path.endswith(JSONL_SUFFIX)).encode("utf-8"))
    return len(rows)


def errors_path(out: str) -> str:
    return out + ERRORS_SUFFIX


def build(pipeline: beam.Pipeline, data: str, read: Callable[[str], Iterable[tuple]], model_dir: str, version: int,
          columns: Callable[[dict], dict], out: str) -> None:  # fmt: skip
    """Add the batch prediction of `data` to `pipeline`.

    `read(data)` yields `(key, serialized raw tf.Example)` per input, or `(key, None, reason)`
    for an input it cannot turn into one; `columns(outputs)` turns one example's serving outputs
    (`{output: value}`) into `{column: value}` (a value may be a list or a dict: see `flat`)."""
    items = (
        pipeline
        | "Data" >> beam.Create([data])
        | "Read" >> beam.FlatMap(numbered, read)
        | "Spread" >> beam.Reshuffle()
    )  # fmt: skip
    examples, unreadable = items | "Readable" >> beam.Partition(is_error, 2)
    scored = (
        examples
        | "Key" >> beam.Map(keyed)
        | "Predict" >> RunInference(KeyedModelHandler(SignatureHandler(model_dir)))
        | "Columns" >> beam.Map(prediction_row, columns, version)
    )  # fmt: skip
    predicted, refused = scored | "Refused" >> beam.Partition(is_refused, 2)
    errors = (
        (unreadable | "Unreadable" >> beam.Map(error_row), refused | "Reasons" >> beam.Map(dropped_flag))
        | "Errors" >> beam.Flatten()
    )  # fmt: skip
    (
        predicted
        | "Rows" >> beam.Map(dropped_flag)
        | "AllRows" >> beam.combiners.ToList()
        | "Write" >> beam.Map(write_rows, out)
    )  # fmt: skip
    (
        errors
        | "AllErrors" >> beam.combiners.ToList()
        | "WriteErrors" >> beam.Map(write_rows, errors_path(out), skip_empty=True)
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Outcome:
    predicted: int
    failed: int


def run(beam_args: list[str], data: str, read: Callable, model_dir: str, version: int, columns: Callable, out: str) -> Outcome:
    """Run the batch prediction on the runner `beam_args` name, and count what it wrote."""
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
        build(pipeline, data, read, model_dir, version, columns, out)
    counts: dict[str, int] = {}
    for counter in pipeline.result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]:
        counts[counter.key.metric.name] = counts.get(counter.key.metric.name, 0) + int(counter.committed or 0)
    return Outcome(counts.get(PREDICTED, 0), counts.get(FAILED, 0))


def to_python(value: Any) -> Any:
    """A serving output's value as JSON/CSV-ready Python: numbers, strings, lists of them."""
    array = np.asarray(value)
    if array.dtype.kind in "SO":
        decoded = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.reshape(-1)]
        return decoded[0] if array.ndim == 0 else decoded
    return array.item() if array.ndim == 0 else array.tolist()
