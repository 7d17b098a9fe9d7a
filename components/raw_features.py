"""The raw features a pushed model reads, taken from the model itself, and examples checked against them.

Every export has `predict_raw` (components/export.py), whose inputs are the raw features
its tf.Example signatures parse: one TensorSpec per feature, (B, *shape), or (B,) for a
one-value feature. That is the model's own parse spec, so without the run that trained
it one can tell whether examples carry what it reads (the Evaluator, for the deployed
model) and build examples it should read (the server's warm-up).
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from components.export import RAW_SIGNATURE

LIST_KINDS = {tf.string: "bytes_list", tf.float32: "float_list", tf.float64: "float_list"}  # else int64_list


def raw_feature_specs(signatures) -> dict[str, tf.TensorSpec] | None:
    """{feature: (B, ...) TensorSpec} of the model's raw features, or None for a model without `predict_raw`."""
    if RAW_SIGNATURE not in signatures:
        return None
    return dict(signatures[RAW_SIGNATURE].structured_input_signature[1])


def list_kind(spec: tf.TensorSpec) -> str:
    """The tf.train.Feature list that holds a value of `spec`'s dtype."""
    return LIST_KINDS.get(spec.dtype, "int64_list")


def values_per_example(spec: tf.TensorSpec) -> int | None:
    """How many values one example holds for `spec` (its shape after the batch), or None when a dimension is free."""
    dims = spec.shape.as_list()[1:]
    return None if None in dims else math.prod(dims)


def mismatch(records: list[bytes], specs: dict[str, tf.TensorSpec]) -> str | None:
    """The first way the serialized examples differ from what a model reading `specs` parses
    (a feature missing, of another kind, or with another number of values), or None."""
    for record in records:
        example = tf.train.Example.FromString(record).features.feature
        for key, spec in sorted(specs.items()):
            if key not in example:
                return f"it reads feature '{key}', which this run's examples do not have (the columns changed)"
            kind, expected = example[key].WhichOneof("kind"), list_kind(spec)
            if kind != expected:
                return f"it reads feature '{key}' as {expected}, this run's examples hold a {kind}"
            count, wanted = len(getattr(example[key], kind).value), values_per_example(spec)
            if wanted is not None and count != wanted:
                return (
                    f"it reads {wanted} values of feature '{key}', this run's examples have {count} "
                    "(the lookback, the horizon or the shape changed)"
                )
    return None


def to_example(values: dict[str, np.ndarray], specs: dict[str, tf.TensorSpec]) -> bytes:
    """One serialized tf.Example holding `values` (one example's value of each feature, any shape)."""
    feature = {}
    for key, value in values.items():
        kind, flat = list_kind(specs[key]), np.asarray(value).reshape(-1).tolist()
        feature[key] = tf.train.Feature(**{kind: getattr(tf.train, kind.title().replace("_", ""))(value=flat)})
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
