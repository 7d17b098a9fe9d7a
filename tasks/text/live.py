"""Live accuracy of the served classifications, once their labels have arrived
(`make monitor TASK=text TRUTH=labels.csv`; the shared part is serving/live_accuracy.py).

The key: the instance's `key` as the client sent it (`{"instances": [{"text": "...", "key": "r1"}]}`),
the same string the truth names; `make predict-batch` keys a row by its CSV's `key` or `id`
column (batch.py). A request the client sent no key with (the log made one up) cannot be joined.

The truth: a CSV with columns `key,label`, one row per labelled request, in any order, written
as labels come in. A request whose key is not in it yet, or whose label is empty, is not known yet.

The losses, per request, 0/1 errors (the error rate, averaged):
- deployed: the logged predicted label, `__output__label` (what the user got);
- baseline: the TF-IDF challenger, `baseline_label` of the deployed model's `evaluation`
  signature (components/export.py) fed the request's logged raw features;
- majority: the truth file's most frequent label, for every request.
"""
from __future__ import annotations

import numpy as np

from components.export import EVALUATION_SIGNATURE, call_in_batches
from data import csv_input
from data.config import PipelineConfig
from serving import live_accuracy, request_log
from tasks.text import features

LOSS = "error rate"
KEY_COLUMN, LABEL_COLUMN = "key", "label"  # the truth file's columns
BASELINE, MAJORITY = "baseline", "majority"


def read_truth(truth_path: str) -> dict[str, str]:
    """key -> label of the rows that have one; a key labelled twice differently is an error."""
    frame = csv_input.read_csv(truth_path, dtype=str, keep_default_na=False)
    missing = [c for c in (KEY_COLUMN, LABEL_COLUMN) if c not in frame.columns]
    if missing:
        raise ValueError(f"{truth_path} has no column(s) {missing} (columns: {list(frame.columns)}): expected key,label")
    labels: dict[str, str] = {}
    for key, label in zip(frame[KEY_COLUMN].str.strip(), frame[LABEL_COLUMN].str.strip(), strict=True):
        if not label:
            continue
        if labels.get(key, label) != label:
            raise ValueError(f"{truth_path}: key {key!r} is labelled both {labels[key]!r} and {label!r}")
        labels[key] = label
    return labels


def logged_label(example) -> str:
    values = example.features.feature[request_log.OUTPUT_PREFIX + features.PREDICTED_LABEL_KEY].bytes_list.value
    if not values:
        raise ValueError(f"a logged request has no '{request_log.OUTPUT_PREFIX + features.PREDICTED_LABEL_KEY}': "
                         "is this the text task's request log?")  # fmt: skip
    return values[0].decode("utf-8", "replace")


def live_truth(config: PipelineConfig, truth_path: str, requests: list, model_dir: str) -> live_accuracy.Joined:
    """Each request joined to its label by key (see the module docstring)."""
    labels = read_truth(truth_path)
    keys = [request_log.key_of(e) for e in requests]
    truth = [labels.get(k) if k is not None else None for k in keys]
    status = [live_accuracy.JOINED if t is not None else
              live_accuracy.NO_KEY if live_accuracy.generated_key(k) else live_accuracy.UNKNOWN
              for k, t in zip(keys, truth, strict=True)]  # fmt: skip
    known = np.array([s == live_accuracy.JOINED for s in status], dtype=bool)  # (N,)
    predicted = {live_accuracy.DEPLOYED: [logged_label(e) for e in requests]}
    notes = []
    if labels:
        values, counts = np.unique(list(labels.values()), return_counts=True)
        predicted[MAJORITY] = [str(values[np.argmax(counts)])] * len(requests)
    baseline, why_not = baseline_labels(model_dir, requests, known)
    if baseline is not None:
        predicted[BASELINE] = baseline
    else:
        notes.append(f"{BASELINE}: left out: {why_not}")
    losses = {name: np.array([float(p != t) if ok else np.nan for p, t, ok in zip(answers, truth, known, strict=True)])
              for name, answers in predicted.items()}  # fmt: skip
    return live_accuracy.Joined(status, losses, loss=LOSS, block=1, notes=notes)


def baseline_labels(model_dir: str, requests: list, known: np.ndarray) -> tuple[list | None, str]:
    """The TF-IDF challenger's label per request (None where not joined), or (None, why not)."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(model_dir)
    except Exception as error:  # noqa: BLE001  (a model that cannot be read leaves this challenger out, not the check)
        return None, f"cannot load the deployed model {model_dir}: {error}"
    signature = loaded.signatures.get(EVALUATION_SIGNATURE)
    name = features.baseline_output_key(features.PREDICTED_LABEL_KEY)
    if signature is None or name not in signature.structured_outputs:
        return None, f"the deployed model's '{EVALUATION_SIGNATURE}' signature has no output '{name}'"
    rows = np.flatnonzero(known)
    if not rows.size:
        return None, "no joined request"
    outputs = call_in_batches(signature, [request_log.raw_features(requests[i]).SerializeToString() for i in rows])
    found: list = [None] * len(requests)
    for row, label in zip(rows, outputs[name], strict=True):
        found[row] = label.decode("utf-8", "replace") if isinstance(label, bytes) else str(label)
    return found, ""
