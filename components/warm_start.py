"""Warm start: the Trainer's weights kept beside its serving model, and restored into a later
run's model when they fit (`trainer.warm_start`).

`save` writes `<Model artifact>/warm_start/weights.npz` (the arrays of `model.weights`, in
order) and `manifest.json` (each weight's path and shape, and a fingerprint of the transform
graph's assets, where the text vocabulary lives). The Pusher copies only `Format-Serving`, so
these files are never pushed. `restore` loads them into a model built the same way only when
every shape and the vocabulary are equal; otherwise it says why and leaves the model as it was.
Only the model's weights travel: the optimizer starts afresh, so a learning-rate schedule starts
at its beginning too.
"""
from __future__ import annotations

import hashlib
import io
import json
import os

import keras
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.utils import path_constants

FOLDER = "warm_start"  # in the Model artifact, beside Format-Serving (never pushed)
WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"
_OLD_SERVING_DIR = "serving_model_dir"  # TFX's name for Format-Serving in artifacts before 0.26


def folder(model_uri: str) -> str:
    return os.path.join(model_uri, FOLDER)


def model_folder(base_model: str) -> str:
    """The Model artifact folder of a `base_model` path. TFX 1.16 gives the Trainer's
    `fn_args.base_model` as the artifact's serving folder, `<uri>/Format-Serving`
    (tfx/components/trainer/fn_args_utils.py: `path_utils.serving_model_path(uri, ...)`);
    the artifact folder itself is accepted too."""
    path = base_model.rstrip("/")
    if os.path.basename(path) in (path_constants.SERVING_MODEL_DIR, _OLD_SERVING_DIR):
        return os.path.dirname(path)
    return path


def vocabulary(transform_graph_path: str | None) -> dict | None:
    """A content hash of the transform graph's asset files (the vocabularies tf.Transform fitted:
    text's terms, the class names) and their line count; a graph without assets hashes the empty
    set. None when no transform graph is given."""
    if transform_graph_path is None:
        return None
    assets = os.path.join(tft.TFTransformOutput(transform_graph_path).transform_savedmodel_dir, "assets")
    digest, terms = hashlib.sha256(), 0
    if tf.io.gfile.isdir(assets):
        for name in sorted(tf.io.gfile.listdir(assets)):
            path = os.path.join(assets, name)
            if tf.io.gfile.isdir(path):
                continue
            with tf.io.gfile.GFile(path, "rb") as handle:
                content = handle.read()
            digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
            terms += len(content.splitlines())
    return {"sha256": digest.hexdigest(), "terms": terms}


def _shapes(model: keras.Model) -> list[dict]:
    return [{"path": w.path, "shape": [int(d) for d in w.shape]} for w in model.weights]


def save(model: keras.Model, model_uri: str, transform_graph_path: str | None) -> str:
    """Write the model's weights and their manifest under `<model_uri>/warm_start/`; returns the folder."""
    target = folder(model_uri)
    tf.io.gfile.makedirs(target)
    arrays = model.get_weights()  # in the order of model.weights
    buffer = io.BytesIO()
    np.savez(buffer, *arrays)  # arr_0, arr_1, ...
    with tf.io.gfile.GFile(os.path.join(target, WEIGHTS_FILE), "wb") as handle:
        handle.write(buffer.getvalue())
    manifest = {"weights": _shapes(model), "vocabulary": vocabulary(transform_graph_path)}
    with tf.io.gfile.GFile(os.path.join(target, MANIFEST_FILE), "w") as handle:
        json.dump(manifest, handle, indent=1)
    return target


def _mismatch(saved: list[dict], current: list[dict]) -> str | None:
    """Why the saved weights do not fit the built model (the first differing weight), or None."""
    for index, (old, new) in enumerate(zip(saved, current, strict=False)):
        if old["shape"] != new["shape"]:
            return (f"weight {index} ({new['path']}) has shape {tuple(new['shape'])} here but "
                    f"{tuple(old['shape'])} in the blessed model ({old['path']})")  # fmt: skip
    if len(saved) != len(current):
        return f"the model has {len(current)} weights, the blessed model {len(saved)}"
    return None


def _vocabulary_change(saved: dict | None, current: dict | None) -> str | None:
    if saved is None or current is None:
        return "the vocabulary of the blessed model or of this run is unknown (no transform graph given)"
    if saved["sha256"] == current["sha256"]:
        return None
    same = " (the same count, other terms)" if saved["terms"] == current["terms"] else ""
    return (f"the vocabulary changed ({saved['terms']} -> {current['terms']} terms{same}; "
            f"fingerprint {saved['sha256'][:12]} -> {current['sha256'][:12]})")  # fmt: skip


def kept(model: keras.Model) -> set[int]:
    """ids of the weights a warm start leaves as built: those of the layers the model names in
    its `warm_start_keeps` (a patch forecaster's linear path, this run's ridge fit)."""
    names = getattr(model, "warm_start_keeps", ())
    return {id(w) for name in names for w in model.get_layer(name).weights}


def restore(model: keras.Model, base_model: str | None, transform_graph_path: str | None) -> tuple[bool, str]:
    """Load the blessed model's warm-start weights into the built `model` when they fit (all but
    those of the layers it names in `warm_start_keeps`, which keep their built values).

    (True, "warm start from <folder>: N weights"), or (False, why not): no blessed model, no
    warm-start files, another vocabulary, the first weight whose shape differs, or the error a
    corrupt file raised. Never raises; on False the model's weights are untouched.
    """
    if not base_model:
        return False, "no blessed model yet"
    source = folder(model_folder(base_model))
    manifest_path, weights_path = os.path.join(source, MANIFEST_FILE), os.path.join(source, WEIGHTS_FILE)
    try:
        if not (tf.io.gfile.exists(manifest_path) and tf.io.gfile.exists(weights_path)):
            return False, f"the blessed model has no warm-start weights (trained before warm start existed): {source}"
        with tf.io.gfile.GFile(manifest_path) as handle:
            manifest = json.load(handle)
        why = _vocabulary_change(manifest.get("vocabulary"), vocabulary(transform_graph_path))
        why = why or _mismatch(manifest["weights"], _shapes(model))
        if why:
            return False, why
        with tf.io.gfile.GFile(weights_path, "rb") as handle:
            stored = np.load(io.BytesIO(handle.read()), allow_pickle=False)
            arrays = [stored[f"arr_{i}"] for i in range(len(manifest["weights"]))]
        for array, weight in zip(arrays, model.weights, strict=True):
            if tuple(array.shape) != tuple(weight.shape):  # the file disagrees with its own manifest
                return False, f"{WEIGHTS_FILE} holds shape {array.shape} for {weight.path}, which its manifest does not"
        keep = kept(model)
        built = model.get_weights()
        model.set_weights([own if id(w) in keep else array
                           for w, own, array in zip(model.weights, built, arrays, strict=True)])  # fmt: skip
    except Exception as error:  # a corrupt or unreadable file: train from scratch, saying why
        return False, f"the warm-start weights in {source} could not be read ({type(error).__name__}: {error})"
    left = f" ({len(keep)} kept as built: {', '.join(model.warm_start_keeps)})" if keep else ""
    return True, f"warm start from {model_folder(base_model)}: {len(arrays) - len(keep)} weights{left}"
