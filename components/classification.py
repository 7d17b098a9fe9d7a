"""What every classification task (text, vision) shares: label ids, class outputs and scores.

- `label_ids`: in `preprocessing_fn`, the user's class strings -> ids by a train-fitted
  vocabulary, whose file gives the class names (`class_names`) at serving.
- `class_outputs`: (B, C) probabilities -> the serving outputs TFMA and clients read.
- `score`: the Scorer's function. It runs the candidate's `evaluation` signature on the raw
  eval and test examples and scores the candidate, the challenger fitted in the same run
  and, where the candidate has one, its linear wide part alone, with the same arithmetic:
  accuracy, macro-F1 and one-vs-rest AUC (macro over classes).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from components import examples_io, export
from data import features

SPLITS = ("eval", "test")


def label_ids(inputs: dict) -> tf.Tensor:
    """(B, 1) class strings -> (B,) ids (Transform analyzes train only). The label is absent when
    serving: tf.Transform prunes this branch from the graph then."""
    labels = tft.compute_and_apply_vocabulary(inputs[features.LABEL_KEY], vocab_filename=features.LABEL_VOCABULARY)
    return tf.squeeze(labels, axis=1)


def class_names(tf_transform_output: tft.TFTransformOutput) -> list[str]:
    """Class names in label-id order (the Transform's label vocabulary)."""
    return [v.decode() for v in tf_transform_output.vocabulary_by_name(features.LABEL_VOCABULARY)]


def class_outputs(probabilities: tf.Tensor, names: list[str]) -> dict:
    """(B, C) probabilities -> them, the most probable class name, all class names."""
    vocabulary = tf.constant(names)
    batch = tf.shape(probabilities)[0]
    return {
        features.PROBABILITIES_KEY: probabilities,
        features.PREDICTED_LABEL_KEY: tf.gather(vocabulary, tf.argmax(probabilities, axis=-1)),
        features.ALL_CLASSES_KEY: tf.tile(vocabulary[None], [batch, 1]),  # (B, C)
    }


def predictions(outputs: dict) -> list[tuple[str, dict[str, float]]]:
    """(label, {class: probability}) per example, from a classifier's serving outputs."""
    labels = [v.decode() for v in np.asarray(outputs[features.PREDICTED_LABEL_KEY]).reshape(-1)]
    classes = [v.decode() for v in np.asarray(outputs[features.ALL_CLASSES_KEY])[0]]
    probabilities = np.asarray(outputs[features.PROBABILITIES_KEY])
    return [(label, dict(zip(classes, map(float, row), strict=True))) for label, row in zip(labels, probabilities, strict=True)]


def with_challenger(ours: dict, theirs: dict, wide: dict | None = None) -> dict:
    """The evaluation signature's outputs: the candidate's, the challenger's prefixed `baseline_`
    and, for a model built over a linear wide part, that part's alone, prefixed `wide_`."""
    outputs = {**ours, **{features.baseline_output_key(k): v for k, v in theirs.items()}}
    return {**outputs, **{features.WIDE_PREFIX + k: v for k, v in (wide or {}).items()}}


def logistic_regression_weights(model, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(weights (P, C), bias (C,)) of a fitted scikit-learn LogisticRegression as logits over all
    `num_classes` label ids, for a challenger carried into the SavedModel as TensorFlow ops.

    Binary: p(classes_[1]) = sigmoid(z), i.e. logits [0, z]. A class absent from the fit gets
    a bias of -1e9, so it is never predicted."""
    weights = np.zeros((model.coef_.shape[1], num_classes))
    bias = np.full((num_classes,), -1e9)
    if model.coef_.shape[0] == 1:
        weights[:, model.classes_[1]] = model.coef_[0]
        bias[model.classes_] = [0.0, model.intercept_[0]]
    else:
        weights[:, model.classes_] = model.coef_.T
        bias[model.classes_] = model.intercept_
    return weights, bias


# name -> output prefix; "wide" only where the model has a wide part (`with_challenger`)
CLASSIFIERS = {"model": "", "baseline": features.BASELINE_PREFIX, "wide": features.WIDE_PREFIX}


def classify(signature, records: list[bytes]) -> dict[str, tuple[np.ndarray, list[str]]]:
    """{classifier: (probabilities (N, C), class names)} from the evaluation signature."""
    outputs = export.call_in_batches(signature, records)
    names = [n.decode() for n in outputs[features.ALL_CLASSES_KEY][0]]
    return {
        name: (outputs[prefix + features.PROBABILITIES_KEY], names)
        for name, prefix in CLASSIFIERS.items()
        if prefix + features.PROBABILITIES_KEY in outputs
    }


def metrics(truth: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and macro one-vs-rest AUC of (N, C) probabilities against (N,) class ids."""
    predicted = probabilities.argmax(axis=-1)
    classes = np.arange(probabilities.shape[1])
    present = np.unique(truth)
    if len(present) < 2:
        auc = float("nan")
    elif probabilities.shape[1] == 2:
        auc = float(roc_auc_score(truth, probabilities[:, 1]))
    else:
        auc = float(roc_auc_score(truth, probabilities, multi_class="ovr", average="macro", labels=classes))
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)),
        "auc": auc,
    }


def score(model_dir: str, examples_uri: str, config: dict) -> dict:
    """{split: {"model"|"baseline"[|"wide"]: {"accuracy", "macro_f1", "auc"}}, "examples": {split: N}}."""
    del config  # the classes travel in the model
    signature = tf.saved_model.load(model_dir).signatures[export.EVALUATION_SIGNATURE]
    result: dict = {"examples": {}}
    for split in SPLITS:
        records = examples_io.read_split(examples_uri, split)
        labels = examples_io.first_strings(records, features.LABEL_KEY)
        outputs = classify(signature, records)
        names = next(iter(outputs.values()))[1]
        index = {n: i for i, n in enumerate(names)}
        truth = np.array([index.get(label, -1) for label in labels])
        result[split] = {name: metrics(truth, probabilities) for name, (probabilities, _) in outputs.items()}
        result["examples"][split] = len(records)
    return result
