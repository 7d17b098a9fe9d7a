"""Peak resident memory per pipeline component, sampled from outside the run.

A local run is one LocalDagRunner process plus, in Beam's multi-processing mode, worker
processes it starts; no component reports its own memory. So a thread samples the RSS of
the whole process tree (the run's process and all its descendants) a few times a second,
and each sample is attributed afterwards to the component whose ML Metadata execution was
running at that time (LocalDagRunner runs one node at a time). The sum of RSS counts pages
shared between processes once per process: an upper bound, like what the kernel's OOM
killer compares against the RAM.
"""
from __future__ import annotations

import threading
import time

import psutil

HZ = 5.0


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants (0 once it has exited)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # a worker that ended between the listing and the read
    return total


class TreeSampler:
    """`with TreeSampler(pid) as sampler:` ... `sampler.samples`: [(unix seconds, bytes)]."""

    def __init__(self, pid: int, hz: float = HZ):
        self.pid, self.period = pid, 1.0 / hz
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss(self.pid)))
            self._stop.wait(self.period)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def peaks(samples: list[tuple[float, int]], intervals: dict[str, tuple[float, float]]) -> dict[str, int | None]:
    """The largest sample inside each component's [start, end] (unix seconds); None when no
    sample fell inside (a component shorter than the sampling period)."""
    found: dict[str, int | None] = {}
    for name, (start, end) in intervals.items():
        inside = [rss for t, rss in samples if start <= t <= end]
        found[name] = max(inside) if inside else None
    return found
