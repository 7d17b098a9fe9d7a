"""The served model: the newest complete version under a serving directory, swapped in when a new one lands.

Like TF Serving's "latest" version policy: a thread polls the directory (1 s by
default); a new version is loaded and warmed up (each signature called once on a
one-example input) *before* it replaces the current one, so no request waits on a
load or sees a half-loaded model. A request holds the `Loaded` it started with, so a
swap never drops it. Only complete versions are seen (export.serving_versions: the
Pusher renames a finished copy into place).
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time

import tensorflow as tf

from components.export import EXAMPLES_INPUT, serving_versions


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


def warmup_value(spec: tf.TensorSpec) -> tf.Tensor:
    """One example of the signature's input: an empty text, zeros, or an empty tf.Example."""
    shape = [1] + [d or 1 for d in spec.shape.as_list()[1:]]
    if spec.dtype == tf.string:
        empty = tf.train.Example().SerializeToString() if spec.name == EXAMPLES_INPUT else b""
        return tf.fill(shape, tf.constant(empty))
    return tf.zeros(shape, spec.dtype)


def load(path: str, version: int) -> Loaded:
    model = tf.saved_model.load(path)
    signatures = dict(model.signatures)
    for function in signatures.values():  # warm up: trace caches, kernels, lookup tables
        inputs = {k: warmup_value(s) for k, s in function.structured_input_signature[1].items()}
        try:
            function(**inputs)
        except (tf.errors.InvalidArgumentError, ValueError):
            pass  # a signature that rejects the placeholder input still got its kernels loaded
    return Loaded(version, path, signatures, time.time(), model)


class ModelRepository:
    def __init__(self, serving_dir: str, poll_seconds: float = 1.0):
        self.serving_dir = serving_dir
        self.poll_seconds = poll_seconds
        self.current: Loaded | None = None
        self.last_error: str | None = None
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def refresh(self) -> bool:
        """Load the newest version if it is not the current one; True when a new one was swapped in."""
        found = serving_versions(self.serving_dir)
        if not found or (self.current and self.current.version == found[-1]):
            return False
        version = found[-1]
        try:
            loaded = load(os.path.join(self.serving_dir, str(version)), version)
        except Exception as error:  # noqa: BLE001  (keep serving the current version)
            self.last_error = f"version {version} failed to load: {error}"
            return False
        self.current, self.last_error = loaded, None  # one reference assignment: atomic for readers
        return True

    def start(self) -> None:
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._halt.wait(self.poll_seconds):
            self.refresh()
