"""The request log: a sample of the served predictions, as tf.Examples in rotating TFRecord files.

`make serve` writes one record per sampled predicted instance to OUTPUT_DIR/<task>/requests/
(`folder`), so that a monitor can compare what the deployed model sees with what it was trained
on, and join later truth to its predictions by key. The contract the readers rely on:
- files `requests-<UTC %Y%m%dT%H%M%S>-<seq, 5 digits>.tfrecord` (plain TFRecord), oldest first
  by name; at most `max_files` of them, each at most `max_bytes`: the disk stays bounded;
- one tf.train.Example per instance: its raw input features under their raw names (for a
  `serving_default` request, the example's own features; for `predict_raw`, the raw inputs;
  floats as float_list, ints as int64_list, strings as bytes_list, lists flattened), and meta
  features starting with `__`: `__key__` (bytes: the instance's `key` if the client sent one,
  else a uuid4 hex), `__time__` (int64 unix ms), `__version__` (int64 model version) and
  `__output__<output>` (the prediction, flattened: floats, or bytes for strings);
- `read(folder, last, since_ms)` and `raw_features(example)` read them back.

Logging must not slow a request: `RequestLog.submit` on the request path only samples and
enqueues references to the tensors the request already holds; a writer thread encodes and
writes. When the queue is full the instances are dropped, and a failed write (a full disk, a
folder that cannot be made) drops them too; neither ever fails a request, and both are counted
(`on_written`, `on_dropped`, which the server turns into /metrics).
"""
from __future__ import annotations

import datetime
import glob
import os
import queue
import random
import re
import threading
import time
import uuid
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from components.export import EXAMPLES_INPUT
from data.features import REQUEST_META, without_request_meta
from serving import rest_codec

FOLDER = "requests"  # under OUTPUT_DIR/<task>/
KEY = "key"  # the instance field a client may send to name a request; never passed to the model
META = REQUEST_META  # the prefix of the features the log adds (data/features.py)
KEY_FEATURE, TIME_FEATURE, VERSION_FEATURE, OUTPUT_PREFIX = "__key__", "__time__", "__version__", "__output__"
DEFAULT_RATE = 1.0  # every instance: local use; 0 disables the log
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # per file
DEFAULT_MAX_FILES = 20  # the disk holds at most DEFAULT_MAX_FILES x DEFAULT_MAX_BYTES (320 MiB)
MAX_PENDING = 4096  # instances waiting for the writer; more are dropped (a burst the disk cannot keep up with)
RECORD_OVERHEAD = 16  # TFRecord framing per record: length (8), its CRC (4), the data's CRC (4)
NAME = re.compile(r"^requests-(\d{8}T\d{6})-(\d{5})\.tfrecord$")
SEQ_MODULO = 100_000  # 5 digits

# Why instances were dropped (the `reason` label of serving_request_log_dropped_total).
QUEUE_FULL, WRITE_ERROR, ENCODE_ERROR, TOO_LARGE = "queue_full", "write_error", "encode_error", "too_large"
REASONS = (QUEUE_FULL, WRITE_ERROR, ENCODE_ERROR, TOO_LARGE)


def folder(task_dir) -> str:
    """Where the log of a task lives: OUTPUT_DIR/<task>/requests."""
    return os.path.join(str(task_dir), FOLDER)


def take_keys(body, input_names) -> tuple[object, list | None]:
    """(the body without the instances' `key` fields, the keys by instance or None when none was sent).
    A key that is not a string or an integer is a rest_codec.RequestError (HTTP 400).

    A body without keys comes back as it is (the same object), so a TF Serving client sees no
    change; so does one whose signature has an input named `key` (then it is an input). Row format:
    `{"instances": [{..., "key": "a"}, ...]}` (a `{"b64": ..., "key": ...}` instance becomes the
    bare `{"b64": ...}`); columnar: `{"inputs": {..., "key": ["a", ...]}}`.
    """
    if not isinstance(body, dict) or KEY in input_names:
        return body, None
    instances, inputs = body.get("instances"), body.get("inputs")
    if isinstance(instances, list) and any(isinstance(i, dict) and KEY in i for i in instances):
        keys = [_key(i.get(KEY), f"instances[{n}]") if isinstance(i, dict) else None for n, i in enumerate(instances)]
        stripped = [{k: v for k, v in i.items() if k != KEY} if isinstance(i, dict) else i for i in instances]
        return {**body, "instances": stripped}, keys
    if isinstance(inputs, dict) and KEY in inputs:
        if not isinstance(inputs[KEY], list):
            raise rest_codec.RequestError(f"'inputs': '{KEY}' must be a list with one key per instance")
        keys = [_key(k, f"'inputs' {KEY}[{n}]") for n, k in enumerate(inputs[KEY])]
        return {**body, "inputs": {k: v for k, v in inputs.items() if k != KEY}}, keys
    return body, None


def _key(value, where: str) -> str | None:
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return None if value is None else str(value)
    raise rest_codec.RequestError(f"{where}: '{KEY}' must be a string or an integer, got {type(value).__name__}")


def _feature(values, numbers_as_floats: bool = False) -> tf.train.Feature:
    """A feature of a value or list of values (flattened): floats, ints (or floats), or bytes."""
    flat = np.asarray(values).reshape(-1)  # (n,)
    if flat.dtype.kind == "f" or (numbers_as_floats and flat.dtype.kind in "iub"):
        return tf.train.Feature(float_list=tf.train.FloatList(value=flat.astype(np.float32)))
    if flat.dtype.kind in "iub":
        return tf.train.Feature(int64_list=tf.train.Int64List(value=flat.astype(np.int64)))
    as_bytes = [v if isinstance(v, bytes) else str(v).encode() for v in flat.tolist()]
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=as_bytes))


def batch_size(inputs: dict) -> int:
    """The number of instances of a request: the longest first axis of its inputs (a per-request
    input such as a sample rate may have one row for all)."""
    return max(int(t.shape[0]) if len(t.shape) else 1 for t in inputs.values())


def _rows(tensors: dict, batch: int) -> dict[str, np.ndarray]:
    """Each tensor as an array indexed by instance; one whose first axis is not the batch is kept whole."""
    arrays = {name: np.asarray(t) for name, t in tensors.items()}
    return {n: a if a.ndim and a.shape[0] == batch else np.broadcast_to(a, (batch, *a.shape)) for n, a in arrays.items()}


def encode(inputs: dict, outputs: dict, version: int, time_ms: int, keys: list | None, indices) -> list[bytes]:
    """The serialized records of the instances `indices` of one request (all when None).

    `inputs` are the tensors the signature was called with: a `serving_default` request's
    serialized tf.Examples (`examples`) keep their own features; raw inputs are features by name.
    """
    batch = batch_size(inputs)
    examples = set(inputs) == {EXAMPLES_INPUT} and inputs[EXAMPLES_INPUT].dtype == tf.string
    ins, outs = (None if examples else _rows(inputs, batch)), _rows(outputs, batch)
    serialized = np.asarray(inputs[EXAMPLES_INPUT]) if examples else None  # (B,) bytes
    records = []
    for i in range(batch) if indices is None else indices:
        example = tf.train.Example.FromString(serialized[i]) if examples else tf.train.Example()
        feature = example.features.feature
        for name, rows in (ins or {}).items():
            feature[name].CopyFrom(_feature(rows[i]))
        for name, rows in outs.items():
            feature[OUTPUT_PREFIX + name].CopyFrom(_feature(rows[i], numbers_as_floats=True))
        key = keys[i] if keys and keys[i] is not None else uuid.uuid4().hex
        feature[KEY_FEATURE].bytes_list.value.append(key.encode())
        feature[TIME_FEATURE].int64_list.value.append(time_ms)
        feature[VERSION_FEATURE].int64_list.value.append(int(version))
        records.append(example.SerializeToString())
    return records


class RotatingWriter:
    """TFRecord files in `folder`, a new one before a record would take the current past `max_bytes`;
    the oldest files are deleted so that at most `max_files` remain. Raises on a failed open or write:
    the caller counts it. Files left by earlier servers count towards `max_files`."""

    def __init__(self, folder: str, max_bytes: int, max_files: int):
        self.folder, self.max_bytes, self.max_files = folder, max_bytes, max_files
        self._writer, self._size, self._seq = None, 0, None

    def write(self, record: bytes) -> None:
        size = len(record) + RECORD_OVERHEAD
        if self._writer is not None and self._size + size > self.max_bytes:
            self.close()
        if self._writer is None:
            self._open()
        self._size += size
        self._writer.write(record)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        writer, self._writer, self._size = self._writer, None, 0
        if writer is not None:
            writer.close()

    def _open(self) -> None:
        os.makedirs(self.folder, exist_ok=True)
        existing = files(self.folder)
        if self._seq is None:  # continue after the files already there, so names keep their order
            self._seq = (int(NAME.match(os.path.basename(existing[-1])).group(2)) + 1) if existing else 0
        for old in existing[: max(0, len(existing) - self.max_files + 1)]:  # room for the new one
            os.remove(old)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        path = os.path.join(self.folder, f"requests-{stamp}-{self._seq % SEQ_MODULO:05d}.tfrecord")
        self._seq += 1
        self._writer, self._size = tf.io.TFRecordWriter(path), 0


class RequestLog:
    """Samples predicted instances on the request path; a writer thread encodes and writes them.

    `rate` is the probability that an instance is logged (seeded by `seed`); `on_written(n)` and
    `on_dropped(reason, n)` are told, in instances, what happened to each sampled one.
    """

    def __init__(self, folder: str, rate: float = DEFAULT_RATE, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_files: int = DEFAULT_MAX_FILES, seed: int | None = None,
                 on_written: Callable[[int], None] | None = None,
                 on_dropped: Callable[[str, int], None] | None = None):  # fmt: skip
        if not 0 <= rate <= 1:
            raise ValueError(f"the request log's rate must be in [0, 1], got {rate}")
        if max_bytes < 1024 or max_files < 1:
            raise ValueError(f"the request log needs max_bytes >= 1024 and max_files >= 1, got {max_bytes}, {max_files}")
        self.folder, self.rate = folder, rate
        self.on_written, self.on_dropped = on_written, on_dropped
        self.written, self.dropped = 0, {}  # instances, and dropped instances by reason
        self._random = random.Random(seed)
        self._writer = RotatingWriter(folder, max_bytes, max_files)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pending, self._lock = 0, threading.Lock()
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)

    def start(self) -> RequestLog:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then close the file."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, inputs: dict, outputs: dict, version: int, keys: list | None = None) -> None:
        """Queue a sample of one answered request's instances (never raises; cheap: no encoding here)."""
        try:
            batch = batch_size(inputs)
            indices = None if self.rate >= 1 else [i for i in range(batch) if self._random.random() < self.rate]
            count = batch if indices is None else len(indices)
            if count == 0:
                return
            with self._lock:
                full = self._pending > 0 and self._pending + count > MAX_PENDING  # one request alone always fits
                if not full:
                    self._pending += count
            if full:
                return self._drop(QUEUE_FULL, count)
            self._queue.put((inputs, outputs, version, time.time_ns() // 1_000_000, keys, indices, count))
        except Exception:  # noqa: BLE001  (a request is never failed by its log)
            self._drop(ENCODE_ERROR, 1)

    def _run(self) -> None:
        unflushed = 0  # instances written since the last flush: counted once the flush succeeds
        while True:
            entry = self._queue.get()
            if entry is None:
                break
            *request, count = entry
            with self._lock:
                self._pending -= count
            unflushed += self._write(request, count)
            if self._queue.empty() and unflushed:
                unflushed = self._flush(unflushed)
        self._flush(unflushed)
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001
            pass

    def _write(self, request, count: int) -> int:
        """The number of instances written (not yet flushed); the others are counted as dropped."""
        try:
            records = encode(*request)
        except Exception:  # noqa: BLE001  (an input the log cannot encode: that request is not logged)
            self._drop(ENCODE_ERROR, count)
            return 0
        written = 0
        for index, record in enumerate(records):
            if len(record) + RECORD_OVERHEAD > self._writer.max_bytes:
                self._drop(TOO_LARGE, 1)
                continue
            try:
                self._writer.write(record)
                written += 1
            except Exception:  # noqa: BLE001  (a full disk, a folder that cannot be made: dropped, counted)
                self._abandon_file()
                self._drop(WRITE_ERROR, len(records) - index)
                break
        return written

    def _flush(self, unflushed: int) -> int:
        if not unflushed:
            return 0
        try:
            self._writer.flush()
        except Exception:  # noqa: BLE001
            self._abandon_file()
            self._drop(WRITE_ERROR, unflushed)
            return 0
        self.written += unflushed
        if self.on_written:
            self.on_written(unflushed)
        return 0

    def _abandon_file(self) -> None:
        """Close the file a write failed on (the writer forgets it even when closing fails too); the next
        record opens a new one."""
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001
            pass

    def _drop(self, reason: str, count: int) -> None:
        with self._lock:  # the request path and the writer thread both drop
            self.dropped = {**self.dropped, reason: self.dropped.get(reason, 0) + count}
        if self.on_dropped:
            self.on_dropped(reason, count)


def files(folder: str) -> list[str]:
    """The log's files in `folder`, oldest first."""
    paths = [p for p in glob.glob(os.path.join(folder, "requests-*.tfrecord")) if NAME.match(os.path.basename(p))]
    return sorted(paths, key=lambda p: NAME.match(os.path.basename(p)).groups())


def _records(path: str) -> list[bytes]:
    """A file's records; a record cut short (the file being written, a full disk) ends it."""
    out = []
    try:
        for record in tf.data.TFRecordDataset(path):
            out.append(record.numpy())
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError, tf.errors.NotFoundError):
        pass
    return out


def read(folder: str, last: int | None = None, since_ms: int | None = None) -> list[tf.train.Example]:
    """The logged records, oldest first: those with `__time__` later than `since_ms` (all when None),
    and of them the `last` newest (all when None)."""
    if last is not None and last <= 0:
        return []
    kept: list[tf.train.Example] = []
    for path in reversed(files(folder)):  # newest file first: `last` reads only what it needs
        examples = [tf.train.Example.FromString(r) for r in _records(path)]
        newer = examples
        if since_ms is not None:
            newer = [e for e in examples if time_of(e) > since_ms]
        kept = newer + kept
        if (last is not None and len(kept) >= last) or len(newer) < len(examples):  # older files hold older records
            break
    return kept[-last:] if last is not None else kept


def time_of(example: tf.train.Example) -> int:
    """A logged request's time, unix ms (`__time__`)."""
    return int(example.features.feature[TIME_FEATURE].int64_list.value[0])


def key_of(example: tf.train.Example) -> str | None:
    """The request's key as the client sent it (or the log's uuid when it sent none)."""
    values = example.features.feature[KEY_FEATURE].bytes_list.value
    return values[0].decode("utf-8", "replace") if values else None


def raw_features(example: tf.train.Example) -> tf.train.Example:
    """The example without the log's meta features: the instance's raw input as the model took it."""
    return without_request_meta(example)
