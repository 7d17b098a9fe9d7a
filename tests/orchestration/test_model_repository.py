"""The server's warm-up: a version whose signatures always fail is not served, and /healthz and /metrics say so.

Real tiny SavedModels (tests/window_models.py) in numbered version directories, and the real
server on a free port of 127.0.0.1, spoken to over HTTP.
"""
from __future__ import annotations

import base64
import contextlib
import os

import httpx
import pytest
import tensorflow as tf
from prometheus_client.parser import text_string_to_metric_families

from components.export import EXAMPLES_INPUT, RAW_SIGNATURE, SERVING_SIGNATURE
from serving import warmup
from serving.server import Server
from tests.window_models import OUTPUT, save_window_model, window_records

NAME = "tiny"


@contextlib.contextmanager
def serving(serving_dir: str):
    server = Server(NAME, serving_dir, port=0, poll_seconds=3600).start()  # no polling: the tests call refresh()
    try:
        yield f"http://127.0.0.1:{server.port}", server
    finally:
        server.stop()


def push(serving_dir, version: int, **model) -> str:
    return save_window_model(os.path.join(serving_dir, str(version)), **model)


def metrics(base: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of /metrics."""
    text = httpx.get(f"{base}/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def predict(base: str) -> httpx.Response:
    b64 = base64.b64encode(window_records(1)[0]).decode()
    return httpx.post(f"{base}/v1/models/{NAME}:predict", json={"instances": [{"b64": b64}]})


def warmup_failures(base: str, version: int) -> float:
    return metrics(base).get(("serving_warmup_failures_total", (("version", str(version)),)), 0.0)


def test_a_good_version_serves_and_is_healthy(tmp_path):
    push(tmp_path, 1)
    with serving(str(tmp_path)) as (base, _):
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 200 and health.json()["version"] == "1"
        assert health.json()["failed_versions"] == {}
        assert predict(base).status_code == 200
        assert metrics(base)[("serving_model_version", ())] == 1
        assert warmup_failures(base, 1) == 0


def test_a_version_whose_signatures_always_fail_is_not_served(tmp_path):
    push(tmp_path, 1, failing=True)
    with serving(str(tmp_path)) as (base, server):
        assert server.repository.current is None
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503
        assert "version 1 is not served" in health.json()["reason"]
        assert "this model always fails" in health.json()["failed_versions"]["1"]  # the model's own error
        assert predict(base).status_code == 503
        assert warmup_failures(base, 1) == 1
        assert metrics(base)[("serving_model_version", ())] == 0
        server.repository.refresh()  # a failed version is not tried (or counted) again
        assert warmup_failures(base, 1) == 1


@pytest.mark.slow
def test_a_failing_new_version_leaves_the_good_one_serving(tmp_path):
    push(tmp_path, 1)
    with serving(str(tmp_path)) as (base, server):
        assert server.repository.current.version == 1
        push(tmp_path, 2, failing=True)
        assert server.repository.refresh() is False  # what the watcher thread does on its next poll
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 200 and health.json()["version"] == "1"
        assert set(health.json()["failed_versions"]) == {"2"}
        assert predict(base).status_code == 200
        assert warmup_failures(base, 2) == 1
        assert metrics(base)[("serving_model_version", ())] == 1
        push(tmp_path, 3)  # a good push after the bad one is served
        assert server.repository.refresh() is True
        assert httpx.get(f"{base}/healthz").json()["version"] == "3"


def test_at_start_the_newest_version_that_warms_up_is_served(tmp_path):
    push(tmp_path, 1)
    push(tmp_path, 2, failing=True)
    with serving(str(tmp_path)) as (base, _):
        assert httpx.get(f"{base}/healthz").json()["version"] == "1"
        assert warmup_failures(base, 2) == 1


def test_a_version_that_does_not_load_is_counted(tmp_path):
    push(tmp_path, 1)
    os.remove(os.path.join(push(tmp_path, 2), "saved_model.pb"))
    os.makedirs(os.path.join(tmp_path, "2", "saved_model.pb"))  # a directory where the file should be
    with serving(str(tmp_path)) as (base, _):
        assert httpx.get(f"{base}/healthz").json()["version"] == "1"
        assert "does not load" in httpx.get(f"{base}/healthz").json()["failed_versions"]["2"]
        assert warmup_failures(base, 2) == 1


def save_image_model(export_dir: str) -> str:
    """A model whose raw feature is encoded image bytes: a text, or an empty string, makes it fail."""
    spec = {"image": tf.io.FixedLenFeature([1], tf.string)}

    def predict(raw: dict) -> dict:
        decode = lambda one: tf.reduce_mean(tf.cast(tf.io.decode_image(one, channels=1, expand_animations=False), tf.float32))  # noqa: E731
        return {OUTPUT: tf.map_fn(decode, tf.reshape(raw["image"], [-1]), fn_output_signature=tf.float32)}  # (B,)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        return predict(tf.io.parse_example(examples, spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image")])
    def serve_raw(image):
        return predict({"image": image[:, None]})

    tf.saved_model.save(tf.Module(), export_dir, signatures={SERVING_SIGNATURE: serve, RAW_SIGNATURE: serve_raw})
    return export_dir


def test_a_model_of_encoded_images_passes_warm_up(tmp_path):
    """The warm-up finds a request the model should answer (a PNG), so a good image model is served."""
    model = tf.saved_model.load(save_image_model(str(tmp_path / "image")))
    with pytest.raises(tf.errors.InvalidArgumentError):  # a text is not an image: the first sample fails ...
        model.signatures[RAW_SIGNATURE](image=tf.constant([warmup.TEXT_SAMPLE]))
    warmup.warm_up(dict(model.signatures))  # ... and the PNG sample is answered: no WarmupFailed
