"""What a local run shows: progress, what a user should act on, the summary. The rest goes to a log.

This is the one place where library output is routed. TensorFlow's C++ runtime,
ML Metadata and Beam's worker processes write straight to file descriptors 1 and 2,
where no logging setting reaches them. So, for the length of a run, `Console`
points both descriptors (and `sys.stdout`/`sys.stderr`, and every Python log record)
at `OUTPUT_DIR/<task>/logs/run.log`, keeps its own copy of the terminal, and writes
to the terminal only:
- the progress of each component, read from ML Metadata by `ProgressWatcher` (not
  parsed from TFX's log lines, so no library's log level can hide it);
- records of the project's own logger (`data/notices.py`) (data gaps, a deployed model that
  could not be compared...): what a user should act on;
- its progress lines (`data.notices.progress`): the Tuner's trials, the Trainer's epochs;
- what the runner prints through `Console.say` (the summary, errors).
Nothing in a library is patched; everything is restored on exit.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

from data.notices import notices, progress

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _terminal_copy(stream, fd: int):
    """A stream to the terminal that survives the redirection of `fd`.

    Under pytest's capture `stream` is not the descriptor itself: keep writing to it.
    """
    try:
        if stream.fileno() != fd:
            return stream, False
    except (AttributeError, OSError, ValueError):
        return stream, False
    stream.flush()
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace"), True


class Console:
    """`with Console(log_path) as console:` library output to the log, `console.say` to the terminal.

    `prints_to_terminal=True` (the commands that print their own results: predict, serve,
    report, inspect) keeps Python's `print` on the terminal; only what writes to the file
    descriptors (TensorFlow's C++ runtime), log records and warnings go to the log."""

    def __init__(self, log_path: str, prints_to_terminal: bool = False):
        self.log_path = log_path
        self.prints_to_terminal = prints_to_terminal
        self._saved: list = []

    def __enter__(self) -> Console:
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.out, own_out = _terminal_copy(sys.stdout, 1)
        self.err, own_err = _terminal_copy(sys.stderr, 2)
        self._owned = [s for s, own in ((self.out, own_out), (self.err, own_err)) if own]
        self.log = open(self.log_path, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [(fd, os.dup(fd)) for fd in (1, 2)]
        for fd in (1, 2):
            os.dup2(self.log.fileno(), fd)
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = (self.out, self.err) if self.prints_to_terminal else (self.log, self.log)
        logging.captureWarnings(True)  # a library's warnings are log records too
        root = logging.getLogger()
        self._root_state = (root.handlers[:], root.level)
        to_log = logging.StreamHandler(self.log)
        to_log.setFormatter(logging.Formatter(LOG_FORMAT))
        root.handlers = [to_log]
        root.setLevel(logging.INFO)
        self._notice_handler = logging.StreamHandler(self.err)
        self._notice_handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        notices().addHandler(self._notice_handler)
        notices().setLevel(logging.INFO)
        self._progress_handler = logging.StreamHandler(self.out)
        self._progress_handler.setFormatter(logging.Formatter(f"{'':11s}%(message)s"))  # under `[  12.3s] Trainer ...`
        progress().addHandler(self._progress_handler)
        progress().setLevel(logging.INFO)
        return self

    def say(self, message: str = "", error: bool = False) -> None:
        """To the terminal (stderr when `error`), and into the log."""
        print(message, file=self.err if error else self.out, flush=True)
        print(message, file=self.log, flush=True)

    def note(self, message: str) -> None:
        """Into the log only (what the terminal leaves out, such as the metrics of slices)."""
        print(message, file=self.log, flush=True)

    def __exit__(self, *exc) -> None:
        notices().removeHandler(self._notice_handler)
        progress().removeHandler(self._progress_handler)
        logging.captureWarnings(False)
        root = logging.getLogger()
        root.handlers, level = self._root_state
        root.setLevel(level)
        sys.stdout, sys.stderr = self._streams
        for fd, saved in self._saved:
            os.dup2(saved, fd)
            os.close(saved)
        self.log.close()
        for stream in self._owned:
            stream.close()


class ProgressWatcher(threading.Thread):
    """Prints each component of the newest run as it starts and ends, read from ML Metadata."""

    def __init__(self, metadata_path: str, console: Console, interval: float = 0.5):
        super().__init__(daemon=True)
        self.metadata_path, self.console, self.interval = metadata_path, console, interval
        self.t0 = time.time()
        self.since_ms = int(self.t0 * 1000) - 1000
        self.shown: dict[int, str] = {}  # execution id -> last state printed
        self._halt = threading.Event()
        self._store = None

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.poll()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.poll()  # the last states

    def poll(self) -> None:
        from pipeline import mlmd

        try:
            if self._store is None:
                self._store = mlmd.open_store(self.metadata_path)
            runs = [r for r in mlmd.runs(self._store) if r.create_time_since_epoch >= self.since_ms]
            if not runs:
                return
            for info in mlmd.run_executions(self._store, runs[-1]):
                self.show(info)
        except Exception:  # noqa: BLE001  (the store is busy or not created yet: next tick)
            return

    def show(self, info) -> None:
        execution_id = info.execution.id
        previous = self.shown.get(execution_id)
        if previous == info.state:
            return
        now = time.time() - self.t0
        if previous is None and info.state in ("NEW", "RUNNING"):
            self.console.say(f"[{now:7.1f}s] {info.node} ...")
        elif info.state == "COMPLETE":
            self.console.say(f"[{now:7.1f}s] {info.node} done in {info.seconds:.1f}s")
        elif info.state == "CACHED":
            self.console.say(f"[{now:7.1f}s] {info.node} cached")
        elif info.state in ("FAILED", "CANCELED"):
            self.console.say(f"[{now:7.1f}s] {info.node} {info.state}", error=True)
        self.shown[execution_id] = info.state
