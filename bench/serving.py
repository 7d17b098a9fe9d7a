"""Serving: `make serve` under load over real HTTP, against the bare in-process model call.

For each task, the model of the run the `timeseries` and `text` benchmarks just made
(pushed, or else the candidate) is served from a scratch serving directory by the
real server (`python -m pipeline.serve`, in its own process) on 127.0.0.1. A load generator (threads with
keep-alive `http.client` connections) sends a bounded number of predict requests (one tf.Example
each, as `{"b64": ...}`) at concurrency 1, 8 and 32 and stops by itself; p50/p99
latency and throughput per level. In the same run the same one-example batch goes
through the bare in-process signature call. During the concurrency-8 load a new
version is written (staged and renamed, as the Pusher does): the server must swap to
it without failing any request. Goal: p50 at concurrency 1 <= 1.5 x bare + 2 ms.
"""
from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import httpx
import numpy as np
import tensorflow as tf

from bench import pipeline_stats
from components.examples_io import read_split
from components.export import SERVING_SIGNATURE
from pipeline.config import load_config

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
RUNS = {  # task -> (bench run directory, config path or None)
    "timeseries": (os.path.join(RESULTS_DIR, "timeseries_run"), None),
    "text": (os.path.join(RESULTS_DIR, "text_rotten_tomatoes_seed0"), None),
}
REQUESTS = {1: 200, 8: 400, 32: 640}  # per concurrency level: bounded
WARMUP = 20


def model_and_records(task: str) -> tuple[str, list[bytes]]:
    output_dir, config_path = RUNS[task]
    config = load_config(task, config_path, output_dir=output_dir)
    if not os.path.exists(config.metadata_path):
        raise FileNotFoundError(f"no {task} run under {output_dir}: run `make bench` (or --only {task}) first")
    _, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    model_dir, _ = pipeline_stats.model_of_run(config, by_node)
    records = read_split(by_node["ExampleGen"].outputs["examples"][0].uri, "test", limit=64)
    return model_dir, records


def percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1000), float(np.percentile(seconds, 99) * 1000)


def bare_call(model_dir: str, records: list[bytes], count: int) -> list[float]:
    serve = tf.saved_model.load(model_dir).signatures[SERVING_SIGNATURE]
    times = []
    for i in range(count + WARMUP):
        started = time.perf_counter()
        serve(examples=tf.constant([records[i % len(records)]]))
        times.append(time.perf_counter() - started)
    return times[WARMUP:]


def load(url: str, bodies: list[dict], concurrency: int, count: int, during=None, until=None):
    """(latencies, failed requests, wall seconds) of at least `count` requests from `concurrency`
    clients; with `until`, they go on (up to 10 x `count`) until `until()` holds."""
    latencies, failures, lock = [], [0], threading.Lock()
    sent = iter(range(10 * count if until else count))

    target = urllib.parse.urlsplit(url)
    host, port, path = target.hostname, target.port, target.path
    payloads = [json.dumps(b).encode() for b in bodies]  # encoded once: the client's cost stays small

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)  # keep-alive
        try:
            for i in sent:
                if until is not None and i >= count and until():
                    return
                started = time.perf_counter()
                try:
                    connection.request("POST", path, payloads[i % len(payloads)], {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=30)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    failures[0] += not ok
        finally:
            connection.close()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(client) for _ in range(concurrency)]
        if during:
            during()
        for future in futures:
            future.result()
    return latencies, failures[0], time.perf_counter() - started


def start_server(task: str, output_dir: str) -> tuple[subprocess.Popen, str]:
    """`python -m pipeline.serve` in its own process (as `make serve`), once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.serve", "--task", task, "--output-dir", output_dir, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"serving.server for {task} did not answer on {base}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_version(base: str, task: str) -> int:
    return int(httpx.get(f"{base}/v1/models/{task}").json()["model_version_status"][0]["version"])


def push_new_version(model_dir: str, serving: str, version: str):
    """A function that writes `version` half a second into the load, staged and renamed as the Pusher does."""

    def push() -> None:
        time.sleep(0.5)
        staging = os.path.join(serving, f".staging-{version}")
        shutil.copytree(model_dir, staging)
        os.rename(staging, os.path.join(serving, version))

    return push


def run(args) -> list[dict]:
    rows = []
    for task in RUNS:
        model_dir, records = model_and_records(task)
        output_dir = tempfile.mkdtemp(prefix=f"serving_{task}_")
        serving = load_config(task, output_dir=output_dir).serving_dir
        shutil.copytree(model_dir, os.path.join(serving, "1"))
        bodies = [{"instances": [{"b64": base64.b64encode(r).decode()}]} for r in records]
        bare = bare_call(model_dir, records, REQUESTS[1])
        bare_p50, bare_p99 = percentiles(bare)
        rows.append({"row": f"{task}: bare in-process call", "requests": len(bare), "p50_ms": bare_p50,
                     "p99_ms": bare_p99, "req_per_s": len(bare) / sum(bare), "failed": 0})  # fmt: skip
        process, base = start_server(task, output_dir)
        url = f"{base}/v1/models/{task}:predict"
        try:
            load(url, bodies, 1, WARMUP)
            for concurrency, count in REQUESTS.items():
                swapping = concurrency == 8  # a new version lands mid-load; the load lasts until it is served
                latencies, failed, wall = load(
                    url, bodies, concurrency, count,
                    during=push_new_version(model_dir, serving, "2") if swapping else None,
                    until=(lambda b=base, t=task: served_version(b, t) == 2) if swapping else None,
                )  # fmt: skip
                p50, p99 = percentiles(latencies)
                note = ""
                if concurrency == 1:
                    goal = 1.5 * bare_p50 + 2
                    note = f"goal p50 <= {goal:.2f} ms: {'met' if p50 <= goal else 'NOT met'}"
                if swapping:
                    note = f"version 1 -> 2 during the load; serving {served_version(base, task)} after"
                rows.append({"row": f"{task}: HTTP, concurrency {concurrency}", "requests": len(latencies),
                             "p50_ms": p50, "p99_ms": p99, "req_per_s": len(latencies) / wall, "failed": failed,
                             "note": note})  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=30)
            shutil.rmtree(output_dir, ignore_errors=True)
    return rows
