"""The request log: records round-trip, files rotate within their bounds, the sample rate holds,
a log that cannot write never fails a request, and the real server logs predictions with their keys.

Real tiny SavedModels (tests/window_models.py: `serving_default` on tf.Examples of `x`, `predict_raw`
on `x` itself, output `forecast`) served by the real server on a free port of 127.0.0.1.
"""
from __future__ import annotations

import base64
import contextlib
import os
import time

import httpx
import numpy as np
import pytest
import tensorflow as tf
from prometheus_client.parser import text_string_to_metric_families

from components.export import EXAMPLES_INPUT, RAW_SIGNATURE
from serving import request_log
from serving.request_log import RequestLog
from serving.server import Server
from tests.window_models import FEATURE, OUTPUT, save_window_model, window_records

NAME = "tiny"
WINDOW = 3


def raw_request(rows: np.ndarray) -> tuple[dict, dict]:
    """(inputs, outputs) of a `predict_raw` call on `rows` (B, WINDOW), with made-up outputs 2 x sum."""
    inputs = {FEATURE: tf.constant(rows, tf.float32)}
    return inputs, {OUTPUT: tf.reduce_sum(inputs[FEATURE], axis=1, keepdims=True) * 2.0}  # (B, 1)


def drained(log: RequestLog) -> RequestLog:
    log.stop()
    return log


def values(example: tf.train.Example, name: str) -> list:
    feature = example.features.feature[name]
    return list(getattr(feature, feature.WhichOneof("kind")).value)


def test_records_round_trip_with_keys_versions_and_outputs(tmp_path):
    folder = str(tmp_path / "requests")
    log = RequestLog(folder).start()
    rows = np.arange(6, dtype=np.float32).reshape(2, WINDOW)
    before = time.time_ns() // 1_000_000
    log.submit(*raw_request(rows), version=7, keys=["a", None])
    records = window_records(3)
    examples = {EXAMPLES_INPUT: tf.constant(records)}
    log.submit(examples, {OUTPUT: tf.constant([[1.5], [2.5], [3.5]])}, version=8)
    drained(log)
    logged = request_log.read(folder)
    assert len(logged) == 5 and log.written == 5 and log.dropped == {}
    assert values(logged[0], "__key__") == [b"a"]
    assert len(values(logged[1], "__key__")[0]) == 32  # no key sent: a uuid4 hex
    assert [values(e, "__version__") for e in logged] == [[7], [7], [8], [8], [8]]
    assert all(before <= values(e, "__time__")[0] <= time.time_ns() // 1_000_000 for e in logged)
    assert values(logged[1], FEATURE) == pytest.approx([3, 4, 5])  # predict_raw: the raw input
    assert values(logged[1], "__output__" + OUTPUT) == pytest.approx([24.0])
    for example, record in zip(logged[2:], records, strict=True):  # serving_default: the example's own features
        assert request_log.raw_features(example) == tf.train.Example.FromString(record)
    assert values(logged[4], "__output__" + OUTPUT) == pytest.approx([3.5])
    assert [values(e, "__key__") for e in request_log.read(folder, last=2)] == [values(e, "__key__") for e in logged[3:]]
    assert len(request_log.read(folder, since_ms=values(logged[2], "__time__")[0])) == 0  # all in the same ms or earlier
    assert len(request_log.read(folder, since_ms=before - 1)) == 5


def test_rotation_keeps_at_most_n_files_each_under_the_bound(tmp_path):
    folder = str(tmp_path / "requests")
    (tmp_path / "requests").mkdir()
    old = tmp_path / "requests" / "requests-20000101T000000-00007.tfrecord"
    old.write_bytes(b"")  # a file an earlier server left: it counts, and goes first
    log = RequestLog(folder, max_bytes=2048, max_files=3).start()
    for index in range(200):
        log.submit(*raw_request(np.full((1, WINDOW), index, np.float32)), version=1, keys=[f"k{index}"])
    drained(log)
    files = request_log.files(folder)
    assert len(files) == 3 and str(old) not in files
    assert all(0 < os.path.getsize(f) <= 2048 for f in files)
    seqs = [int(f.removesuffix(".tfrecord").rsplit("-", 1)[1]) for f in files]
    assert seqs == list(range(seqs[0], seqs[0] + 3)) and seqs[0] > 8  # numbered on after the old file's 7
    logged = request_log.read(folder)
    keys = [values(e, "__key__")[0].decode() for e in logged]
    assert keys == [f"k{i}" for i in range(200 - len(keys), 200)]  # the newest, in order
    assert 3 * 2048 // 200 < len(keys) < 200
    assert log.written == 200 and log.dropped == {}


def test_the_sample_rate_is_honoured(tmp_path):
    log = RequestLog(str(tmp_path / "requests"), rate=0.25, seed=0).start()
    for _ in range(100):
        log.submit(*raw_request(np.zeros((20, WINDOW), np.float32)), version=1)
    drained(log)
    share = len(request_log.read(str(tmp_path / "requests"))) / 2000
    assert share == pytest.approx(0.25, abs=0.04)  # 4 standard deviations of a binomial share
    assert share == log.written / 2000


def test_a_log_that_cannot_write_counts_the_drop_and_raises_nothing(tmp_path):
    blocked = tmp_path / "requests"
    blocked.write_text("a file where the folder should be")
    dropped = []
    log = RequestLog(str(blocked), on_dropped=lambda reason, count: dropped.append((reason, count))).start()
    log.submit(*raw_request(np.zeros((2, WINDOW), np.float32)), version=1)
    log.submit(*raw_request(np.zeros((1, WINDOW), np.float32)), version=1)
    drained(log)
    assert log.written == 0 and log.dropped == {request_log.WRITE_ERROR: 3}
    assert sum(count for _, count in dropped) == 3


def test_a_full_queue_drops_and_counts(tmp_path):
    log = RequestLog(str(tmp_path / "requests"))  # not started: nothing drains the queue
    log.submit(*raw_request(np.zeros((request_log.MAX_PENDING, WINDOW), np.float32)), version=1)
    log.submit(*raw_request(np.zeros((1, WINDOW), np.float32)), version=1)
    assert log.pending == request_log.MAX_PENDING and log.dropped == {request_log.QUEUE_FULL: 1}


def test_keys_leave_the_body_and_a_keyless_body_is_untouched():
    body = {"instances": [{"x": [1, 2, 3]}]}
    assert request_log.take_keys(body, {"x"}) == (body, None)
    assert request_log.take_keys(body, {"x"})[0] is body
    stripped, keys = request_log.take_keys({"instances": [{"b64": "AA==", "key": 4}, {"b64": "AA=="}]}, {"examples"})
    assert stripped == {"instances": [{"b64": "AA=="}, {"b64": "AA=="}]} and keys == ["4", None]
    stripped, keys = request_log.take_keys({"inputs": {"x": [[1, 2, 3]], "key": ["a"]}}, {"x"})
    assert stripped == {"inputs": {"x": [[1, 2, 3]]}} and keys == ["a"]
    with_input = {"instances": [{"key": "k", "x": [1]}]}
    assert request_log.take_keys(with_input, {"key", "x"}) == (with_input, None)  # `key` is an input there


@contextlib.contextmanager
def serving(tmp_path, **log):
    serving_dir = tmp_path / "serving"
    save_window_model(str(serving_dir / "1"), window=WINDOW)
    folder = str(tmp_path / "requests")
    server = Server(NAME, str(serving_dir), port=0, poll_seconds=3600, request_log=RequestLog(folder, **log)).start()
    try:
        yield f"http://127.0.0.1:{server.port}", folder
    finally:
        server.stop()


def metrics(base: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{base}/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def counted(base: str, name: str, labels: tuple, at_least: float, timeout: float = 10.0) -> float:
    """The metric once it reaches `at_least` (the writer thread counts after the answer is sent), or at the timeout."""
    deadline = time.time() + timeout
    while (value := metrics(base).get((name, labels), 0.0)) < at_least and time.time() < deadline:
        time.sleep(0.05)
    return value


def test_the_server_logs_predictions_with_their_keys(tmp_path):
    predict = lambda base, body: httpx.post(f"{base}/v1/models/{NAME}:predict", json=body)  # noqa: E731
    b64 = base64.b64encode(window_records(1)[0]).decode()
    with serving(tmp_path) as (base, folder):
        keyless = predict(base, {"instances": [{FEATURE: [1, 2, 3]}]})
        keyed = predict(base, {"instances": [{FEATURE: [1, 2, 3], "key": "row-1"}, {FEATURE: [0, 0, 1], "key": "row-2"}]})
        example = predict(base, {"instances": [{"b64": b64, "key": "ex-1"}]})
        raw_columnar = predict(base, {"signature_name": RAW_SIGNATURE, "inputs": {FEATURE: [[1, 1, 1]]}})
        assert keyless.status_code == keyed.status_code == example.status_code == raw_columnar.status_code == 200
        assert keyless.json() == {"predictions": [[12.0]]}  # as before: the model's answer, nothing added
        assert keyed.json() == {"predictions": [[12.0], [2.0]]}
        assert raw_columnar.json() == {"outputs": [[6.0]]}
        bad = predict(base, {"instances": [{FEATURE: [1, 2, 3], "key": [1]}]})
        assert bad.status_code == 400 and "'key' must be a string or an integer" in bad.json()["error"]
        short = predict(base, {"inputs": {FEATURE: [[1, 2, 3], [1, 1, 1]], "key": ["only-one"]}})
        assert short.status_code == 400 and "1 keys for 2 instances" in short.json()["error"]
        assert counted(base, "serving_request_log_written_total", (), 5) == 5
        logged = request_log.read(folder)
        assert metrics(base)[("serving_request_log_dropped_total", (("reason", "queue_full"),))] == 0  # there, at 0
    by_key = {values(e, "__key__")[0]: e for e in logged}
    assert set(by_key) >= {b"row-1", b"row-2", b"ex-1"} and len(by_key) == 5
    assert values(by_key[b"row-2"], FEATURE) == pytest.approx([0, 0, 1])
    assert "key" not in by_key[b"row-2"].features.feature  # the key is meta, not an input
    assert values(by_key[b"row-2"], "__output__" + OUTPUT) == pytest.approx([2.0])
    assert values(by_key[b"ex-1"], FEATURE) == pytest.approx(values(tf.train.Example.FromString(window_records(1)[0]), FEATURE))
    assert {values(e, "__version__")[0] for e in logged} == {1}


def test_a_server_whose_log_cannot_write_still_answers(tmp_path):
    (tmp_path / "requests").write_text("a file where the folder should be")
    with serving(tmp_path) as (base, _):
        for _ in range(3):
            response = httpx.post(f"{base}/v1/models/{NAME}:predict", json={"instances": [{FEATURE: [1, 2, 3], "key": "k"}]})
            assert response.status_code == 200 and response.json() == {"predictions": [[12.0]]}
        assert counted(base, "serving_request_log_dropped_total", (("reason", "write_error"),), 3) == 3
        assert metrics(base)[("serving_request_log_written_total", ())] == 0
