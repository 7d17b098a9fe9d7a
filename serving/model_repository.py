"""The served model: the newest complete version under a serving directory that passes warm-up.

Like TF Serving's "latest" version policy: a thread polls the directory (1 s by
default); a new version is loaded and warmed up *before* it replaces the current one,
so no request waits on a load or sees a half-loaded model. Warm-up calls each signature
on requests built from the model's own raw features (serving/warmup.py); a version that
fails to load or to answer them is not served: the current version keeps serving, or,
with none yet, the newest older version that passes, else nothing (and /healthz says
why). A failed version is not tried again, and is listed in `failed` (and reported to
`on_failed`, which counts it in /metrics). A request holds the `Loaded` it started
with, so a swap never drops it. Only complete versions are seen
(export.serving_versions: the Pusher renames a finished copy into place).
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable

import tensorflow as tf

from components import tf_errors
from components.export import serving_versions
from serving import warmup


@dataclasses.dataclass(frozen=True)
class Loaded:
    version: int
    path: str
    signatures: dict  # name -> concrete function
    loaded_at: float
    model: object  # the loaded SavedModel: keeps the signatures' variables and tables alive

    def input_specs(self, signature: str) -> dict[str, tf.TensorSpec]:
        return dict(self.signatures[signature].structured_input_signature[1])

    def output_specs(self, signature: str) -> dict[str, tf.TensorSpec]:
        return dict(self.signatures[signature].structured_outputs)


def load(path: str, version: int) -> Loaded:
    """The version at `path`, loaded and warmed up; raises when it does not load or fails warm-up."""
    model = tf.saved_model.load(path)
    signatures = dict(model.signatures)
    warmup.warm_up(signatures)
    return Loaded(version, path, signatures, time.time(), model)


class ModelRepository:
    def __init__(self, serving_dir: str, poll_seconds: float = 1.0, on_failed: Callable[[int, str], None] | None = None):
        self.serving_dir = serving_dir
        self.poll_seconds = poll_seconds
        self.on_failed = on_failed  # called once per version that fails to load or warm up
        self.current: Loaded | None = None
        self.failed: dict[int, str] = {}  # version -> why it is not served
        self.last_error: str | None = None
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def refresh(self) -> bool:
        """Serve the newest version newer than the current one that loads and warms up; True when one was swapped in."""
        for version in reversed(serving_versions(self.serving_dir)):
            if self.current and version <= self.current.version:
                return False
            if version in self.failed:
                continue
            try:
                loaded = load(os.path.join(self.serving_dir, str(version)), version)
            except Exception as error:  # noqa: BLE001  (whatever the cause, this version is not served)
                reason = str(error) if isinstance(error, warmup.WarmupFailed) else f"it does not load ({tf_errors.summary(error)})"
                self.failed = {**self.failed, version: reason}  # a new dict: readers on other threads see one or the other
                self.last_error = f"version {version} is not served: {reason}"
                if self.on_failed:
                    self.on_failed(version, reason)
                continue
            self.current = loaded  # one reference assignment: atomic for readers
            return True
        return False

    def start(self) -> None:
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._halt.wait(self.poll_seconds):
            self.refresh()
