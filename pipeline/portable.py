"""Beam's portability layer on this machine: a job service and an external worker pool, for one run.

Flink, Spark and Dataflow Runner v2 run a Python pipeline the same way: the SDK submits it
to a job service (`PortableRunner --job_endpoint`), which runs its stages on SDK workers
that an environment provides; `--environment_type=EXTERNAL` asks a worker pool
(`worker_pool_main`) to start them, each a separate Python process. Beam ships both parts
for Python (`local_job_service_main` runs jobs with the FnApiRunner), so the local
profile's `portable` preset exercises that path without a cluster or a job-server jar.

`services()` starts the two as subprocesses on free ports, waits (bounded) until they
listen and yields their addresses, which fill the preset's `{job_endpoint}` and
`{worker_pool}`; it stops them on the way out, also when the run fails. Both log to
files: the pool's log names every SDK worker it starts ("Starting worker with command").

The pool starts each worker as a bare `python` from its PATH (worker_pool_main.py), so the
pool gets this interpreter's directory first on PATH, and this checkout on PYTHONPATH:
the workers must import the project's modules (preprocessing_fn, the gate's metrics).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from data.config import REPO_ROOT

JOB_SERVICE = "apache_beam.runners.portability.local_job_service_main"
WORKER_POOL = "apache_beam.runners.worker.worker_pool_main"
PLACEHOLDERS = ("job_endpoint", "worker_pool")  # a preset naming either needs services()
START_TIMEOUT_S = 60.0  # each service imports Beam (seconds on a loaded machine), then listens
STOP_TIMEOUT_S = 15.0  # then SIGKILL
WORKER_STARTED = "Starting worker with command"  # worker_pool_main's line per SDK worker process
JOB_DONE = "Completed job in"  # local_job_service's line per finished job ("... with state DONE.")
JOB_LOG, POOL_LOG = "beam_job_service.log", "beam_worker_pool.log"  # in the run's log folder


class ServiceError(RuntimeError):
    """A job service or worker pool that did not start."""


@dataclasses.dataclass
class Services:
    """The running job service and worker pool: addresses for the preset, logs to read after."""

    job_endpoint: str
    worker_pool: str
    job_log: pathlib.Path
    pool_log: pathlib.Path
    pool: subprocess.Popen
    moved: bool = False  # the preferred ports were taken: new addresses, so no Beam component is cached

    def values(self) -> dict[str, str]:
        return {"job_endpoint": self.job_endpoint, "worker_pool": self.worker_pool}

    def workers_started(self) -> int:
        """SDK worker processes the pool started so far (its log says so, one line each)."""
        return self.pool_log.read_text(errors="replace").count(WORKER_STARTED) if self.pool_log.exists() else 0


def needs_services(preset_args: list[str]) -> bool:
    """Whether a Beam preset's arguments name the local services' addresses."""
    return any("{" + name + "}" in str(arg) for arg in preset_args for name in PLACEHOLDERS)


def free_port(preferred: int | None = None) -> int:
    """`preferred` when nothing listens there, else a port the system picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.bind(("localhost", port))
            return probe.getsockname()[1]
    raise ServiceError("no free port")  # unreachable: port 0 always binds


def accepts(address: str) -> bool:
    """Whether something listens at `host:port` (the tests read a stopped service's address with it)."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def wait_listening(port: int, process: subprocess.Popen, log: pathlib.Path, timeout: float) -> None:
    """Until `port` accepts a connection; raises if the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{process.args[2]} exited with {process.returncode} before listening: see {log}")
        if accepts(f"localhost:{port}"):
            return
        time.sleep(0.2)
    raise ServiceError(f"{process.args[2]} did not listen on port {port} within {timeout:.0f} s: see {log}")


def worker_env() -> dict[str, str]:
    """This interpreter first on PATH and this checkout first on PYTHONPATH (see the module docstring)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    return env


def start(module: str, args: list[str], log: pathlib.Path) -> subprocess.Popen:
    with open(log, "w") as handle:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", module, *args], stdout=handle, stderr=subprocess.STDOUT,
                                env=worker_env(), cwd=str(REPO_ROOT), start_new_session=True)  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (the pool's SDK workers too), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def services(log_dir: str | os.PathLike, ports: dict[str, int] | None = None,
             timeout: float = START_TIMEOUT_S) -> Iterator[Services]:  # fmt: skip
    """A job service and a worker pool for the duration of the block (module docstring).

    `ports` ({"job_endpoint": ..., "worker_pool": ...}, the profile's `beam.service_ports`)
    are used when free: the addresses are Beam arguments, which TFX hashes into each Beam
    component's cache key, so the same ports let an unchanged rerun reuse its outputs.
    Taken ports are replaced by free ones (`Services.moved` says so)."""
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    ports = ports or {}
    job_port, pool_port = free_port(ports.get("job_endpoint")), free_port(ports.get("worker_pool"))
    moved = any(ports.get(name) not in (None, port) for name, port in zip(PLACEHOLDERS, (job_port, pool_port), strict=True))
    job_log, pool_log = log_dir / JOB_LOG, log_dir / POOL_LOG
    processes = []
    try:
        processes.append(start(JOB_SERVICE, ["--port", str(job_port)], job_log))
        processes.append(start(WORKER_POOL, ["--service_port", str(pool_port)], pool_log))
        wait_listening(job_port, processes[0], job_log, timeout)
        wait_listening(pool_port, processes[1], pool_log, timeout)
        yield Services(f"localhost:{job_port}", f"localhost:{pool_port}", job_log, pool_log, processes[1], moved)
    finally:
        for process in reversed(processes):
            stop(process)
