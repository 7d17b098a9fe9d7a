"""Serving: `make serve` under load over real HTTP, against the bare in-process model call.

For each task, the model of the run the `timeseries` and `text` benchmarks just made
(pushed, or else the candidate) is served from a scratch serving directory by the
real server (`python -m pipeline.serve`, in its own process) on 127.0.0.1. A load generator (threads with
keep-alive `http.client` connections) sends a bounded number of predict requests (one tf.Example
each, as `{"b64": ...}`) at concurrency 1, 8 and 32 and stops by itself; p50/p99
latency and throughput per level. In the same run the same one-example batch goes
through the bare in-process signature call. During the concurrency-8 load a new
version is written (staged and renamed, as the Pusher does): the server must swap to
it without failing any request. Goal: p50 at concurrency 1 <= 1.5 x bare + 2 ms. These servers
run as `make serve` does by default: logging every prediction (serving/request_log.py).

The request log's cost: two servers of the same model, one logging every prediction and one
logging none, answer alternating blocks of requests at concurrency 1 in the same run (so a
busy moment of the machine hits both); p50/p95 of each and the p50 difference. Goal: logging
adds at most 1 ms at p50. Alone, on any pushed model and its examples:

    python -m bench.serving --task timeseries --model-dir OUTPUT_DIR/timeseries/serving/<v> \
        --examples OUTPUT_DIR/timeseries/pipeline_root/ExampleGen/examples/<id>
"""
from __future__ import annotations

import argparse
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
from prometheus_client.parser import text_string_to_metric_families

from bench import pipeline_stats
from bench.run import format_table
from components.examples_io import read_split
from components.export import SERVING_SIGNATURE
from pipeline.config import load_config
from serving import request_log

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
RUNS = {  # task -> (bench run directory, config path or None)
    "timeseries": (os.path.join(RESULTS_DIR, "timeseries_run"), None),
    "text": (os.path.join(RESULTS_DIR, "text_rotten_tomatoes_seed0"), None),
}
REQUESTS = {1: 200, 8: 400, 32: 640}  # per concurrency level: bounded
WARMUP = 20
LOG_BLOCKS, LOG_BLOCK = 10, 40  # request log on vs off: alternating blocks of requests at concurrency 1
LOG_GOAL_MS = 1.0  # the most the request log may add at p50


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


def start_server(task: str, output_dir: str, log_rate: float | None = None) -> tuple[subprocess.Popen, str]:
    """`python -m pipeline.serve` in its own process (as `make serve`), once it answers;
    `log_rate` as `make serve LOG_RATE=...` (None: its default)."""
    port = free_port()
    rate = [] if log_rate is None else ["--log-rate", str(log_rate)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.serve", "--task", task, "--output-dir", output_dir, "--port", str(port), *rate],
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


def logged(base: str) -> float:
    """The instances the server's request log has written, from its /metrics."""
    samples = (s for f in text_string_to_metric_families(httpx.get(f"{base}/metrics").text) for s in f.samples)
    return next((s.value for s in samples if s.name == "serving_request_log_written_total"), 0.0)


def logging_overhead(task: str, model_dir: str, records: list[bytes]) -> list[dict]:
    """p50/p95 at concurrency 1 of the same model served with the request log off and on (every
    prediction logged), in alternating blocks; the `on` row notes the p50 overhead."""
    bodies = [{"instances": [{"b64": base64.b64encode(r).decode()}]} for r in records]
    rates = {"off": 0.0, "on": request_log.DEFAULT_RATE}
    servers, latencies, failed = {}, {mode: [] for mode in rates}, dict.fromkeys(rates, 0)
    try:
        for mode, rate in rates.items():
            output_dir = tempfile.mkdtemp(prefix=f"serving_log_{mode}_{task}_")
            shutil.copytree(model_dir, os.path.join(load_config(task, output_dir=output_dir).serving_dir, "1"))
            process, base = start_server(task, output_dir, rate)
            servers[mode] = (process, base, output_dir)
            load(f"{base}/v1/models/{task}:predict", bodies, 1, WARMUP)
        for _ in range(LOG_BLOCKS):
            for mode, (_, base, _) in servers.items():
                times, failures, _ = load(f"{base}/v1/models/{task}:predict", bodies, 1, LOG_BLOCK)
                latencies[mode] += times
                failed[mode] += failures
        written = logged(servers["on"][1])
    finally:
        for process, _, output_dir in servers.values():
            process.terminate()
            process.wait(timeout=30)
            shutil.rmtree(output_dir, ignore_errors=True)
    rows, p50s = [], {}
    for mode, rate in rates.items():
        seconds = latencies[mode]
        p50s[mode] = float(np.percentile(seconds, 50) * 1000)
        note = f"logged {written:.0f} of {WARMUP + len(seconds)} instances" if mode == "on" else ""
        if mode == "on":
            overhead = p50s["on"] - p50s["off"]
            note = f"p50 overhead {overhead:+.3f} ms (goal <= {LOG_GOAL_MS:g} ms: {'met' if overhead <= LOG_GOAL_MS else 'NOT met'}); {note}"
        rows.append({"row": f"{task}: HTTP, concurrency 1, request log {mode} (rate {rate:g})", "requests": len(seconds),
                     "p50_ms": p50s[mode], "p95_ms": float(np.percentile(seconds, 95) * 1000),
                     "p99_ms": float(np.percentile(seconds, 99) * 1000), "req_per_s": len(seconds) / sum(seconds),
                     "failed": failed[mode], "note": note})  # fmt: skip
    return rows


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
        rows += logging_overhead(task, model_dir, records)
    return rows


def main(argv: list[str] | None = None) -> None:
    """The request log's overhead alone, on a given model and examples (`make bench` runs it all)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, help="the task the model serves (its model name)")
    parser.add_argument("--model-dir", required=True, help="a pushed SavedModel (OUTPUT_DIR/<task>/serving/<version>)")
    parser.add_argument("--examples", required=True, help="an ExampleGen output folder: its test split is sent")
    args = parser.parse_args(argv)
    print(format_table(logging_overhead(args.task, args.model_dir, read_split(args.examples, "test", limit=64))))


if __name__ == "__main__":
    main()
