"""Feature keys shared by every task: the one place where their names are made.

A task's own keys are in `tasks/<task>/features.py`, which re-exports these, so that a
task's modules read every key from one place.
The ExampleGens, `preprocessing_fn`s, the model inputs, the serving signatures and the
TFMA configs all call these.
"""
from __future__ import annotations

TRANSFORMED_SUFFIX = "_xf"  # transformed (normalized) features


def transformed_key(key: str) -> str:
    return f"{key}{TRANSFORMED_SUFFIX}"


# -- keys every classifier shares (the classification kit, components/classification.py) --
LABEL_KEY = "label"  # raw class as the user's string (the label)
LABEL_VOCABULARY = "label"  # name of the Transform's label vocabulary
# Serving outputs; TFMA reads `probabilities` and maps string labels through `all_classes`.
PROBABILITIES_KEY = "probabilities"  # (B, C)
ALL_CLASSES_KEY = "all_classes"  # (B, C) class names in probability order
PREDICTED_LABEL_KEY = "label"  # (B,) the most probable class name
BASELINE_PREFIX = "baseline_"  # evaluation signature: the challenger's outputs, e.g. baseline_probabilities
WIDE_PREFIX = "wide_"  # evaluation signature: the outputs of the text model's wide part alone, scored beside it


def baseline_output_key(key: str) -> str:
    """Evaluation-signature output of the text challenger: `baseline_<serving output>`."""
    return f"{BASELINE_PREFIX}{key}"


# -- an example read from a file (an image, a recording) names it, so validation can say which --
FILE_KEY = "file"  # raw: the file's path under the data folder, so validation can name it


# -- the request log (serving/request_log.py) and the monitor (components/serving_monitor.py) --
REQUEST_META = "__"  # the prefix of the features the request log adds: __key__, __time__, __version__, __output__*


def without_request_meta(example):
    """A logged request (tf.train.Example) without the log's meta features: the raw input as the model took it."""
    import tensorflow as tf

    raw = tf.train.Example()
    for name, feature in example.features.feature.items():
        if not name.startswith(REQUEST_META):
            raw.features.feature[name].CopyFrom(feature)
    return raw
