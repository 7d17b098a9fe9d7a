"""One local run per task at a time, and an honest record of a run that was killed.

A run killed with SIGKILL (out of memory, a closed laptop, `kill -9`) cannot clean
up. TFX's LocalDagRunner has registered the step it was in as RUNNING in ML Metadata,
and it never revisits an old run, so that execution would stay RUNNING forever and
`make inspect` would show a step that is still going. Its cached upstream steps are
fine: a rerun reuses them, because TFX caches only completed executions.

The local runner therefore holds an exclusive lock (`OUTPUT_DIR/<task>/run.lock`)
for the whole run; the kernel releases it when the process dies, however it dies.
A run that gets the lock knows no other run is alive, so every execution still NEW
or RUNNING belongs to a dead run: it is marked FAILED, with the reason in its
`failure` custom property, before the new run starts.
"""
from __future__ import annotations

import fcntl
import os

from ml_metadata.proto import metadata_store_pb2

from pipeline import mlmd as mlmd_read

LOCK_FILE = "run.lock"
FAILURE_PROPERTY = "failure"
INTERRUPTED = "interrupted: the run was killed before this step finished; a later run marked it failed"
UNFINISHED = (metadata_store_pb2.Execution.NEW, metadata_store_pb2.Execution.RUNNING)


class RunInProgress(RuntimeError):
    """Another local run of the same task holds the lock."""


class RunLock:
    """`with RunLock(task_dir):` an exclusive, non-blocking lock for one run."""

    def __init__(self, task_dir: str):
        self.path = os.path.join(task_dir, LOCK_FILE)
        self.handle = None

    def __enter__(self) -> RunLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.handle = open(self.path, "a+")  # noqa: SIM115  (held for the whole run)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise RunInProgress(
                f"another run of this task is in progress (it holds {self.path}); wait for it, "
                "or use another OUTPUT_DIR"
            ) from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"{os.getpid()}\n")
        self.handle.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def fail_interrupted(metadata_path: str) -> list[str]:
    """Mark every NEW or RUNNING execution FAILED; call only while holding the RunLock.

    Returns "<node> (run <run>)" for each execution it marked.
    """
    if not os.path.exists(metadata_path):
        return []
    store = mlmd_read.open_store(metadata_path, writable=True)
    stale = [e for e in store.get_executions() if e.last_known_state in UNFINISHED]
    for execution in stale:
        execution.last_known_state = metadata_store_pb2.Execution.FAILED
        execution.custom_properties[FAILURE_PROPERTY].string_value = INTERRUPTED
    if stale:
        store.put_executions(stale)
    return [f"{mlmd_read.node_name(store, e.id)} (run {mlmd_read.run_of_execution(store, e.id)})" for e in stale]
