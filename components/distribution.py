"""Which worker this Trainer process is, and the TensorFlow strategy it trains under.

Vertex (and any multi-replica custom job) starts the same `run_fn` on every replica and sets
`TF_CONFIG` to name the cluster and this replica's place in it. Without this module each
replica would train its own model and all would race to write `serving_model_dir`. With it:
several workers train one model under `tf.distribute.MultiWorkerMirroredStrategy`
(synchronous all-reduce), and only the chief writes where the pipeline reads; the others write
to a worker-specific temporary path and delete it, as TensorFlow's multi-worker guide does
(its `write_filepath`), since saving can involve collective ops that every worker must join.

No `TF_CONFIG`, or a cluster of one: the default strategy, and the single-process code path
is unchanged (every helper here is then the identity).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Iterator

import tensorflow as tf

TF_CONFIG = "TF_CONFIG"  # the environment variable Vertex and tf.distribute read
WORKER_TYPES = ("chief", "worker")  # task types that train ("ps" and "evaluator" do not)
# Seconds a collective (an all-reduce of gradients or metrics) may wait for its peers before
# it fails: a dead worker then ends the job with an error instead of a hang. Generous against
# a slow step on a shared machine; override per job with TRAINER_COLLECTIVE_TIMEOUT_S.
COLLECTIVE_TIMEOUT_S = 120.0
TIMEOUT_ENV = "TRAINER_COLLECTIVE_TIMEOUT_S"
TEMP_PREFIX = "workertemp_"  # a non-chief worker's throw-away write folder (TensorFlow's name)
# Seconds a worker waits, after its own save, to see the chief's: TFX's Trainer executor fails on
# any replica where `serving_model_dir` does not exist when `run_fn` returns.
CHIEF_WRITE_WAIT_S = 300.0


@dataclasses.dataclass(frozen=True)
class Cluster:
    """This process's place in the training cluster that `TF_CONFIG` describes."""

    workers: int = 1  # chief plus workers: the processes that train
    task_type: str = "worker"
    index: int = 0
    has_chief: bool = False  # the cluster names a `chief` task (else worker 0 is the chief)

    @property
    def multi_worker(self) -> bool:
        return self.workers > 1

    @property
    def is_chief(self) -> bool:
        """The chief writes the model: the `chief` task, or worker 0 when the cluster has no chief."""
        return self.task_type == "chief" or (self.task_type == "worker" and self.index == 0 and not self.has_chief)


def cluster(environ: dict | None = None) -> Cluster:
    """The cluster in `TF_CONFIG` (a cluster of one when it is unset or empty)."""
    raw = (environ if environ is not None else os.environ).get(TF_CONFIG)
    if not raw:
        return Cluster()
    spec = json.loads(raw)
    members = spec.get("cluster") or {}
    task = spec.get("task") or {}
    workers = sum(len(members.get(kind) or []) for kind in WORKER_TYPES)
    return Cluster(max(workers, 1), task.get("type", "worker"), int(task.get("index", 0)), "chief" in members)


_STRATEGY: list[tf.distribute.Strategy] = []  # one per process: TensorFlow allows a single MWMS


def strategy() -> tf.distribute.Strategy:
    """MultiWorkerMirroredStrategy when `TF_CONFIG` names several workers (made once per process,
    before the first op that needs it), else TensorFlow's default strategy."""
    if not cluster().multi_worker:
        return tf.distribute.get_strategy()
    if not _STRATEGY:
        timeout = float(os.environ.get(TIMEOUT_ENV, COLLECTIVE_TIMEOUT_S))
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
        _STRATEGY.append(tf.distribute.MultiWorkerMirroredStrategy(communication_options=options))
    return _STRATEGY[0]


def scope():
    """Build a model and compile it in here, so that its variables are mirrored across workers
    (a null context on one worker: nothing changes)."""
    if not cluster().multi_worker:
        return contextlib.nullcontext()
    return strategy().scope()


def write_path(path: str, where: Cluster | None = None) -> str:
    """Where this worker writes `path`: the path itself on the chief, else the same name in a
    worker-specific temporary folder beside it (TensorFlow's `write_filepath`)."""
    where = where or cluster()
    if where.is_chief:
        return path
    parent, name = os.path.split(path.rstrip("/"))
    return os.path.join(parent, f"{TEMP_PREFIX}{where.index}", name)


@contextlib.contextmanager
def written(path: str) -> Iterator[str]:
    """`with written(export_dir) as target: save(target)`: every worker saves (saving may need
    them all), only the chief's copy stays; a non-chief worker's temporary folder is removed."""
    where = cluster()
    target = write_path(path, where)
    try:
        yield target
    finally:
        if not where.is_chief:
            temp = os.path.dirname(target)
            if tf.io.gfile.exists(temp):
                tf.io.gfile.rmtree(temp)
    if not where.is_chief:
        wait_for_chief(path)


def wait_for_chief(path: str, seconds: float = CHIEF_WRITE_WAIT_S) -> None:
    """Return when the chief's `path` exists (the workers share the pipeline root); a bounded wait."""
    deadline = time.monotonic() + seconds
    while not tf.io.gfile.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the chief did not write {path} within {seconds:.0f} s")
        time.sleep(0.5)
