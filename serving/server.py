"""Serve the pushed model over TensorFlow Serving's REST API (`make serve TASK=text PORT=8501`).

The newest version under OUTPUT_DIR/<task>/serving/ is served as model `<task>`, and a
version the Pusher writes later replaces it without dropping a request
(serving/model_repository.py). Endpoints, as TF Serving's:
- GET  /v1/models/<name>[/versions/<v>]            version status
- GET  /v1/models/<name>[/versions/<v>]/metadata   signatures, inputs and outputs
- POST /v1/models/<name>[/versions/<v>]:predict    row (`instances`) or columnar (`inputs`)
and /healthz (200 with the version served; 503 and the reason when none is) and /metrics
(Prometheus text format: request count and latency, the version served, warm-up
failures per version: a version that fails warm-up is not served, and what the request log
wrote and dropped).
`signature_name` picks a signature: `serving_default` takes serialized tf.Examples
(`{"b64": ...}`), `predict_raw` takes the raw features as plain JSON values. Without
`signature_name`, a request whose inputs are exactly the raw features goes to
`predict_raw`; anything else to `serving_default`, as in TF Serving.
An instance may carry a `key` field: it is not passed to the model, and names the instance
in the request log (serving/request_log.py: a sample of the predictions, written off the
request path; a request without keys is served exactly as TF Serving would).
Served by Tornado; predictions run on a thread pool so slow requests do not block others.
Bad requests get HTTP 400 and `{"error": "..."}`, never a crash.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading

import prometheus_client
import tensorflow as tf
import tornado.httpserver
import tornado.netutil
import tornado.web
from tensorflow.core.framework import types_pb2

from components.export import RAW_SIGNATURE, SERVING_SIGNATURE
from serving import rest_codec
from serving.model_repository import ModelRepository
from serving.request_log import KEY, REASONS, RequestLog, take_keys

MAX_BODY_BYTES = 8 * 1024 * 1024  # a larger request is refused with a 400
WORKERS = 4  # concurrent model calls


class Metrics:
    def __init__(self):
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            "serving_requests", "HTTP requests by endpoint and status code", ["endpoint", "code"], registry=self.registry
        )
        self.latency = prometheus_client.Histogram(
            "serving_request_seconds", "Request latency by endpoint", ["endpoint"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )  # fmt: skip
        self.warmup_failures = prometheus_client.Counter(
            "serving_warmup_failures", "Versions not served: failed to load or warm up, by version", ["version"],
            registry=self.registry,
        )  # fmt: skip
        self.served_version = prometheus_client.Gauge(
            "serving_model_version", "The version being served (0: none)", registry=self.registry
        )
        self.log_written = prometheus_client.Counter(
            "serving_request_log_written", "Predicted instances written to the request log", registry=self.registry
        )
        self.log_dropped = prometheus_client.Counter(
            "serving_request_log_dropped", "Sampled instances not written to the request log, by reason", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self.log_pending = prometheus_client.Gauge(
            "serving_request_log_pending", "Instances waiting for the request log's writer", registry=self.registry
        )

    def watch_log(self, log: RequestLog) -> None:
        """Count what `log` writes and drops (instances), and show its queue when scraped."""
        log.on_written = self.log_written.inc
        log.on_dropped = lambda reason, count: self.log_dropped.labels(reason).inc(count)
        for reason in REASONS:  # each at 0 from the start, so an alert on its rate sees the series
            self.log_dropped.labels(reason)
        self.log_pending.set_function(lambda: log.pending)

    def watch(self, repository: ModelRepository) -> None:
        """Report `repository`: its failed versions as they fail, the served version when scraped."""
        repository.on_failed = lambda version, _reason: self.warmup_failures.labels(str(version)).inc()
        self.served_version.set_function(lambda: repository.current.version if repository.current else 0)


class Handler(tornado.web.RequestHandler):
    endpoint = "other"

    def initialize(self, name: str, repository: ModelRepository, metrics: Metrics, pool, log: RequestLog | None) -> None:
        self.name, self.repository, self.metrics, self.pool, self.log = name, repository, metrics, pool, log

    def fail(self, code: int, message: str) -> None:
        self.set_status(code)
        self.finish({"error": message})

    def write_error(self, status_code: int, **kwargs) -> None:
        self.finish({"error": self._reason})

    def on_finish(self) -> None:
        self.metrics.requests.labels(self.endpoint, str(self.get_status())).inc()
        self.metrics.latency.labels(self.endpoint).observe(self.request.request_time())

    def loaded(self, name: str, version: str | None):
        """The model a request names, or None after answering with the error."""
        if name != self.name:
            self.fail(404, f"Servable not found for request: model '{name}' (this server serves '{self.name}')")
            return None
        current = self.repository.current
        if current is None:
            self.fail(503, f"no version of '{self.name}' is available yet ({self.repository.last_error or 'none pushed'})")
            return None
        if version is not None and version != str(current.version):
            self.fail(400, f"version {version} of '{self.name}' is not loaded (serving version {current.version})")
            return None
        return current


class StatusHandler(Handler):
    endpoint = "status"

    def get(self, name: str, version: str | None = None) -> None:
        current = self.loaded(name, version)
        if current is not None:
            self.finish({"model_version_status": [
                {"version": str(current.version), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]})  # fmt: skip


def tensor_info(spec: tf.TensorSpec, name: str) -> dict:
    dims = [{"size": str(-1 if d is None else d), "name": ""} for d in spec.shape.as_list()]
    dtype = types_pb2.DataType.Name(spec.dtype.as_datatype_enum)  # DT_FLOAT, DT_STRING: TF Serving's names
    return {"dtype": dtype, "tensor_shape": {"dim": dims, "unknown_rank": False}, "name": name}


class MetadataHandler(Handler):
    endpoint = "metadata"

    def get(self, name: str, version: str | None = None) -> None:
        current = self.loaded(name, version)
        if current is None:
            return
        signature_def = {
            signature: {
                "inputs": {k: tensor_info(s, k) for k, s in current.input_specs(signature).items()},
                "outputs": {k: tensor_info(s, k) for k, s in current.output_specs(signature).items()},
                "method_name": "tensorflow/serving/predict",
            }
            for signature in sorted(current.signatures)
        }
        self.finish({
            "model_spec": {"name": self.name, "signature_name": "", "version": str(current.version)},
            "metadata": {"signature_def": {"signature_def": signature_def}},
        })  # fmt: skip


def request_input_names(body) -> set[str]:
    """The input names a request uses (row or columnar format), or an empty set."""
    if not isinstance(body, dict):
        return set()
    instances, inputs = body.get("instances"), body.get("inputs")
    if isinstance(instances, list) and instances and isinstance(instances[0], dict):
        return set(instances[0]) - {"b64"}  # with a `key` when the client sent one
    return set(inputs) if isinstance(inputs, dict) else set()


def default_signature(body, current) -> str:
    """`serving_default` (tf.Examples), unless the request names exactly the raw features:
    then `predict_raw`, so a JSON client can send `{"instances": [{"text": "..."}]}` as is."""
    if RAW_SIGNATURE not in current.signatures:
        return SERVING_SIGNATURE
    names, raw = request_input_names(body), set(current.input_specs(RAW_SIGNATURE))
    if names and (names == raw or names - {KEY} == raw):  # an instance's `key` names it, it is no input
        return RAW_SIGNATURE
    return SERVING_SIGNATURE


class PredictHandler(Handler):
    endpoint = "predict"

    async def post(self, name: str, version: str | None = None) -> None:
        current = self.loaded(name, version)
        if current is None:
            return
        if len(self.request.body) > MAX_BODY_BYTES:
            return self.fail(400, f"request body of {len(self.request.body)} bytes exceeds {MAX_BODY_BYTES}")
        try:
            body = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            return self.fail(400, f"malformed JSON: {error}")
        signature = (body.get("signature_name") if isinstance(body, dict) else None) or default_signature(body, current)
        if signature not in current.signatures:
            return self.fail(400, f"unknown signature_name '{signature}' (available: {sorted(current.signatures)})")
        try:
            body, keys = take_keys(body, current.input_specs(signature))  # the model never sees a key
            inputs, form, batch = rest_codec.parse_request(body, current.input_specs(signature))
            if keys is not None and len(keys) != batch:
                raise rest_codec.RequestError(f"{len(keys)} keys for {batch} instances: give one key per instance")
            loop = asyncio.get_running_loop()
            outputs = await loop.run_in_executor(self.pool, lambda: current.signatures[signature](**inputs))
        except rest_codec.RequestError as error:
            return self.fail(400, str(error))
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return self.fail(400, f"the model could not run this input: {first[:500]}")
        self.finish(rest_codec.format_response(outputs, form))
        if self.log is not None:  # after the answer is sent; only queued here (never raises)
            self.log.submit(inputs, outputs, current.version, keys)


class HealthHandler(Handler):
    endpoint = "healthz"

    def get(self) -> None:
        current, failed = self.repository.current, self.repository.failed
        self.set_status(200 if current else 503)
        self.finish({
            "status": "ok" if current else "no model",
            "model": self.name,
            "version": str(current.version) if current else None,
            "reason": None if current else (self.repository.last_error or "no version pushed yet"),
            "failed_versions": {str(v): why for v, why in sorted(failed.items())},  # not served, and why
        })  # fmt: skip


class MetricsHandler(Handler):
    endpoint = "metrics"

    def get(self) -> None:
        self.set_header("Content-Type", prometheus_client.CONTENT_TYPE_LATEST)
        self.finish(prometheus_client.generate_latest(self.metrics.registry))


class NotFound(Handler):
    def prepare(self) -> None:
        self.fail(404, f"no such endpoint: {self.request.method} {self.request.path}")


def make_app(name: str, repository: ModelRepository, metrics: Metrics, pool, log: RequestLog | None = None):
    args = {"name": name, "repository": repository, "metrics": metrics, "pool": pool, "log": log}
    model = r"/v1/models/([^/:]+)(?:/versions/([^/:]+))?"
    return tornado.web.Application(
        [
            (model + r":predict", PredictHandler, args),
            (model + r"/metadata", MetadataHandler, args),
            (model, StatusHandler, args),
            (r"/healthz", HealthHandler, args),
            (r"/metrics", MetricsHandler, args),
        ],
        default_handler_class=NotFound,
        default_handler_args=args,
    )


class Server:
    """The server on its own event-loop thread: `start()` returns once it listens; `stop()` ends it.
    With a `request_log` (serving/request_log.py), a sample of the predictions is logged and counted."""

    def __init__(self, name: str, serving_dir: str, host: str = "127.0.0.1", port: int = 8501, poll_seconds: float = 1.0,
                 request_log: RequestLog | None = None):  # fmt: skip
        self.name, self.host, self.port = name, host, port
        self.repository = ModelRepository(serving_dir, poll_seconds)
        self.metrics = Metrics()
        self.metrics.watch(self.repository)
        self.request_log = request_log
        if request_log is not None:
            self.metrics.watch_log(request_log)
        self.pool = concurrent.futures.ThreadPoolExecutor(WORKERS)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def serve():
            app = make_app(self.name, self.repository, self.metrics, self.pool, self.request_log)
            server = tornado.httpserver.HTTPServer(app, max_body_size=8 * MAX_BODY_BYTES)
            sockets = tornado.netutil.bind_sockets(self.port, self.host)
            self.port = sockets[0].getsockname()[1]  # the real port when 0 was asked
            server.add_sockets(sockets)
            self._stopped = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stopped.wait()
            server.stop()

        asyncio.run(serve())

    def start(self) -> Server:
        self.repository.start()  # the newest version, loaded and warmed up, before the first request
        if self.request_log is not None:
            self.request_log.start()
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self.repository.stop()
        self.pool.shutdown(wait=False)
        if self.request_log is not None:
            self.request_log.stop()  # what is queued is written
