"""Serving: `make serve` under load over real HTTP, against the bare in-process model call.

For each task, the model of the run the `timeseries` and `text` benchmarks just made
(pushed, or else the candidate) is served from a scratch serving directory by the
real server (pipeline/serve.py) on 127.0.0.1. A load generator (threads with
keep-alive HTTP clients) sends a bounded number of predict requests (one tf.Example
each, as `{"b64": ...}`) at concurrency 1, 8 and 32 and stops by itself; p50/p99
latency and throughput per level. In the same run the same one-example batch goes
through the bare in-process signature call. During the concurrency-8 load a new
version is written (staged and renamed, as the Pusher does): the server must swap to
it without failing any request. Goal: p50 at concurrency 1 <= 1.5 x bare + 2 ms.
"""
from __future__ import annotations

import base64
import concurrent.futures
import os
import shutil
import tempfile
import threading
import time

import httpx
import numpy as np
import tensorflow as tf

from bench import pipeline_stats
from components.examples_io import read_split
from components.export import SERVING_SIGNATURE
from pipeline.config import load_config
from pipeline.serve import Server

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


def load(url: str, bodies: list[dict], concurrency: int, count: int, during=None) -> tuple[list[float], int, float]:
    """(latencies, failed requests, wall seconds) of `count` requests from `concurrency` clients."""
    latencies, failures, lock = [], [0], threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            for i in counter:
                started = time.perf_counter()
                try:
                    ok = http.post(url, json=bodies[i % len(bodies)]).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - started)
                    failures[0] += not ok

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(client) for _ in range(concurrency)]
        if during:
            during()
        for future in futures:
            future.result()
    return latencies, failures[0], time.perf_counter() - started


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
        serving = tempfile.mkdtemp(prefix=f"serving_{task}_")
        shutil.copytree(model_dir, os.path.join(serving, "1"))
        bodies = [{"instances": [{"b64": base64.b64encode(r).decode()}]} for r in records]
        bare = bare_call(model_dir, records, REQUESTS[1])
        bare_p50, bare_p99 = percentiles(bare)
        rows.append({"row": f"{task}: bare in-process call", "requests": len(bare), "p50_ms": bare_p50,
                     "p99_ms": bare_p99, "req_per_s": len(bare) / sum(bare), "failed": 0})  # fmt: skip
        server = Server(task, serving, port=0, poll_seconds=0.5).start()
        url = f"http://127.0.0.1:{server.port}/v1/models/{task}:predict"
        try:
            load(url, bodies, 1, WARMUP)
            for concurrency, count in REQUESTS.items():
                swap = push_new_version(model_dir, serving, "2") if concurrency == 8 else None  # mid-load
                latencies, failed, wall = load(url, bodies, concurrency, count, swap)
                p50, p99 = percentiles(latencies)
                note = ""
                if concurrency == 1:
                    note = f"goal p50 <= {1.5 * bare_p50 + 2:.2f} ms: {'met' if p50 <= 1.5 * bare_p50 + 2 else 'NOT met'}"
                if swap:
                    note = f"version swap mid-load: now serving {server.repository.current.version}"
                rows.append({"row": f"{task}: HTTP, concurrency {concurrency}", "requests": count, "p50_ms": p50,
                             "p99_ms": p99, "req_per_s": count / wall, "failed": failed, "note": note})  # fmt: skip
        finally:
            server.stop()
            shutil.rmtree(serving, ignore_errors=True)
    return rows
