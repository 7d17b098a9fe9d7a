"""Checks of `make serve` over real HTTP on 127.0.0.1, shared by the time-series and text end-to-end tests.

Each task's test module gives a serving directory with a pushed model, a few serialized
tf.Examples and the same examples as raw JSON instances; these functions start a
server on a free port, speak the TF Serving REST API to it and stop it.
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import time

import httpx
import numpy as np
import tensorflow as tf

from components.export import RAW_SIGNATURE, SERVING_SIGNATURE
from serving import serving_model
from serving.server import Server


@contextlib.contextmanager
def running(name: str, serving_dir: str, poll_seconds: float = 0.2):
    server = Server(name, serving_dir, port=0, poll_seconds=poll_seconds).start()
    try:
        yield f"http://127.0.0.1:{server.port}", server
    finally:
        server.stop()


def in_process(serving_dir: str, signature: str, **inputs) -> dict:
    model = tf.saved_model.load(serving_model.latest_model_dir(serving_dir))
    return {k: v.numpy() for k, v in model.signatures[signature](**inputs).items()}


def as_list(value):
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind == "S":
        return np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b, otypes=[object])(array).tolist()
    return array.tolist()


def assert_close(got, expected) -> None:
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            assert_close(got[key], expected[key])
    elif np.asarray(expected).dtype.kind in "OUS":  # labels and class names
        assert got == expected
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=1e-5, atol=1e-5)


def as_json(value):
    """A raw input value as JSON: bytes (an encoded image) travel as {"b64": ...}, as in TF Serving."""
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    return [as_json(v) for v in value] if isinstance(value, list) else value


def check_predict_formats(name: str, serving_dir: str, records: list[bytes], raw: dict[str, list]) -> None:
    """Both signatures, both formats, equal to the in-process call; the raw signature equals the tf.Example one."""
    expected = in_process(serving_dir, SERVING_SIGNATURE, examples=tf.constant(records))
    raw_inputs = {k: tf.constant(v) for k, v in raw.items()}
    np_raw = in_process(serving_dir, RAW_SIGNATURE, **raw_inputs)
    for key in expected:  # the two signatures agree on the same examples
        assert_close(as_list(np_raw[key]), as_list(expected[key]))
    b64 = [{"b64": base64.b64encode(r).decode()} for r in records]
    rows = [{k: as_json(raw[k][i]) for k in raw} for i in range(len(records))]
    with running(name, serving_dir) as (base, _):
        url = f"{base}/v1/models/{name}:predict"
        status = httpx.get(f"{base}/v1/models/{name}").json()["model_version_status"][0]
        assert status["state"] == "AVAILABLE"
        signatures = httpx.get(f"{base}/v1/models/{name}/metadata").json()["metadata"]["signature_def"]["signature_def"]
        examples = signatures[SERVING_SIGNATURE]["inputs"]["examples"]  # what TF Serving's REST API reads
        assert examples["dtype"] == "DT_STRING" and examples["tensor_shape"]["dim"][0]["size"] == "-1"
        assert set(signatures[RAW_SIGNATURE]["inputs"]) == set(raw)
        assert {i["dtype"] for i in signatures[RAW_SIGNATURE]["inputs"].values()} <= {"DT_STRING", "DT_FLOAT"}
        row_ex = httpx.post(url, json={"instances": b64}).json()["predictions"]
        col_ex = httpx.post(url, json={"inputs": {"examples": b64}}).json()["outputs"]
        row_raw = httpx.post(url, json={"signature_name": RAW_SIGNATURE, "instances": rows}).json()["predictions"]
        col_raw = httpx.post(url, json={"signature_name": RAW_SIGNATURE, "inputs": as_json_columns(raw)}).json()["outputs"]
        unnamed = httpx.post(url, json={"instances": rows}).json()["predictions"]  # raw inputs pick predict_raw
        by_version = httpx.post(f"{base}/v1/models/{name}/versions/{status['version']}:predict", json={"instances": b64})
        assert by_version.status_code == 200
    columns = {k: as_list(v) for k, v in expected.items()}
    rows_expected = [{k: columns[k][i] for k in columns} for i in range(len(records))] if len(columns) > 1 else (
        next(iter(columns.values())))  # fmt: skip
    cols_expected = columns if len(columns) > 1 else next(iter(columns.values()))
    for got in (row_ex, row_raw, unnamed):
        assert len(got) == len(records)
        for g, e in zip(got, rows_expected, strict=True):
            assert_close(g, e)
    for got in (col_ex, col_raw):
        assert_close(got, cols_expected)


def as_json_columns(raw: dict[str, list]) -> dict[str, list]:
    return {k: as_json(list(v)) for k, v in raw.items()}


MALFORMED = {  # body -> words the 400's error must contain
    b'{"instances": [': "malformed JSON",
    b'{"instances": [{"b64": "AA=="}], "inputs": {}}': "exactly one of",
    b'{"instances": []}': "non-empty list",
    b'{"instances": [{"b64": "not base64!"}]}': "invalid base64",
    b'{"signature_name": "nope", "instances": [{"b64": "AA=="}]}': "unknown signature_name 'nope'",
    b'{"instances": [12]}': "expected a string",
    b'{"instances": [{"b64": "AA=="}]}': "the model could not run this input",  # not a tf.Example
}


def check_malformed_requests(name: str, serving_dir: str, raw: dict[str, list]) -> None:
    wrong_shape = {"signature_name": RAW_SIGNATURE, "inputs": {k: [v[0], [v[0]]] for k, v in raw.items()}}
    with running(name, serving_dir) as (base, server):
        url = f"{base}/v1/models/{name}:predict"
        absent = server.repository.current.version + 7  # a version that is not loaded
        cases = [(url, body) for body in MALFORMED]
        cases += [(url, wrong_shape), (f"{base}/v1/models/{name}/versions/{absent}:predict", {"instances": [{"b64": "AA=="}]})]
        cases += [(url, b"x" * (8 * 1024 * 1024 + 1))]
        for target, body in cases:
            response = httpx.post(target, **({"content": body} if isinstance(body, bytes) else {"json": body}), timeout=30)
            assert response.status_code == 400, (body if isinstance(body, dict) else body[:80], response.text[:300])
            assert response.json()["error"], body
        for body, words in MALFORMED.items():
            assert words in httpx.post(url, content=body).json()["error"], words
        assert f"version {absent}" in httpx.post(cases[-2][0], json={"instances": []}).json()["error"]
        assert httpx.get(f"{base}/v1/models/{name}").status_code == 200  # still up
        assert httpx.get(f"{base}/v1/models/other").status_code == 404
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        metrics = httpx.get(f"{base}/metrics").text
        assert 'serving_requests_total{code="400",endpoint="predict"}' in metrics
        assert "serving_request_seconds_bucket" in metrics
        assert server.repository.current is not None


def check_new_version_is_picked_up(name: str, serving_dir: str, records: list[bytes]) -> None:
    """A version pushed while the server runs replaces the old one; requests keep succeeding."""
    b64 = [{"b64": base64.b64encode(r).decode()} for r in records]
    with running(name, serving_dir) as (base, _):
        old = int(httpx.get(f"{base}/v1/models/{name}").json()["model_version_status"][0]["version"])
        new = old + 1
        staging = os.path.join(serving_dir, f".staging-{new}")
        shutil.copytree(os.path.join(serving_dir, str(old)), staging)
        os.rename(staging, os.path.join(serving_dir, str(new)))  # as the Pusher does
        deadline, seen, failures = time.time() + 60, old, 0
        while time.time() < deadline and seen != new:
            failures += httpx.post(f"{base}/v1/models/{name}:predict", json={"instances": b64}).status_code != 200
            seen = int(httpx.get(f"{base}/v1/models/{name}").json()["model_version_status"][0]["version"])
        assert seen == new and failures == 0
    shutil.rmtree(os.path.join(serving_dir, str(new)))
