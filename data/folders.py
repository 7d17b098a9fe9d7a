"""Files of a data folder (a local path or a gs:// URI), read the same way by every folder task.

Images and audio clips are listed and read through tf.io.gfile, so the same code reads a
local folder and, on Kubeflow and Vertex, the profile's gs:// folder inside the container.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def relative_files(folder: str) -> list[str]:
    """Every file under `folder` as a '/'-separated relative path, sorted; a local folder or a
    gs:// URI (tf.io.gfile, as on Kubeflow and Vertex)."""
    import tensorflow as tf

    root = folder.rstrip("/")
    found = []
    for directory, _, names in tf.io.gfile.walk(root):
        prefix = directory[len(root) :].strip("/")
        found += [f"{prefix}/{name}" if prefix else name for name in names]
    return sorted(found)


def read_bytes(folder: str, file: str) -> bytes:
    import tensorflow as tf

    with tf.io.gfile.GFile(f"{folder.rstrip('/')}/{file}", "rb") as handle:
        return handle.read()


def content_keys(folder: str, files: pd.Series) -> list[str]:
    """Each file's content digest: byte-identical files share one."""
    return [hashlib.sha1(read_bytes(folder, f)).hexdigest() for f in files]


def content_groups(folder: str, files: pd.Series, keys: list[str] | None = None) -> np.ndarray:
    """A group id per file: byte-identical files share one (`keys`: their digests, if known)."""
    return pd.factorize(pd.Series(keys if keys is not None else content_keys(folder, files)))[0]
