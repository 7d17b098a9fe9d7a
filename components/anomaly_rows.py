"""Which examples break the schema: TFDV's anomalies name a split and a feature, not a row.

When the AnomalyGate stops a run, it scans the offending splits' examples for the
anomalous features and names the first few examples that break the feature's declared
presence, shape, string domain or integer range: by the first raw feature the task names
its examples by (its TaskSpec's `example_names`: a `file` for images and recordings, an
`episode` for trajectories), else by their position in the split.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from data import features

SHOWN = 5  # examples named per feature


def _values(feature: tf.train.Feature) -> list:
    kind = feature.WhichOneof("kind")
    return list(getattr(feature, kind).value) if kind else []


def _shown(value) -> str:
    return repr(value.decode("utf-8", "replace")) if isinstance(value, bytes) else repr(value)


def problem(example: tf.train.Example, spec: schema_pb2.Feature, domains: dict[str, set]) -> str | None:
    """What is wrong with one example's `spec.name` feature, or None."""
    feature = example.features.feature.get(spec.name)
    values = _values(feature) if feature is not None else []
    if not values:
        return "missing" if spec.presence.min_fraction >= 1.0 else None
    if spec.HasField("shape") and len(values) != [d.size for d in spec.shape.dim][0]:
        return f"{len(values)} values, the schema's shape is {[d.size for d in spec.shape.dim]}"
    domain = set(spec.string_domain.value) if spec.HasField("string_domain") else domains.get(spec.domain)
    if domain is not None and spec.type == schema_pb2.BYTES:
        bad = [v for v in values if v.decode("utf-8", "replace") not in domain]
        if bad:
            return f"{_shown(bad[0])} is not in the domain"
    if spec.HasField("int_domain"):
        bounds = spec.int_domain
        bad = [v for v in values if (bounds.HasField("min") and v < bounds.min) or (bounds.HasField("max") and v > bounds.max)]
        if bad:
            return f"{bad[0]} is outside [{spec.int_domain.min}, {spec.int_domain.max}]"
    return None


def name_of(example: tf.train.Example, index: int, names: tuple[str, ...] = (features.FILE_KEY,)) -> str:
    """The first of `names` (raw features: the task's TaskSpec `example_names`) the example has,
    as `file 'a/b.png'` or `episode 7`; else its position in the split."""
    for key in names:
        feature = example.features.feature.get(key)
        values = _values(feature) if feature is not None else []
        if values:
            value = values[0]
            shown = f"'{value.decode('utf-8', 'replace')}'" if isinstance(value, bytes) else str(value)
            return f"{key} {shown}"
    return f"example {index + 1}"


def offending_examples(
    records, schema: schema_pb2.Schema, names: list[str], example_names: tuple[str, ...] = (features.FILE_KEY,)
) -> dict[str, list[str]]:
    """{feature: ["<example>: <what is wrong>", ...]} for the anomalous features `names`,
    at most SHOWN each, plus a count of the rest."""
    specs = {f.name: f for f in schema.feature if f.name in names}
    domains = {d.name: set(d.value) for d in schema.string_domain}
    found: dict[str, list[str]] = {name: [] for name in specs}
    counts = dict.fromkeys(specs, 0)
    for index, record in enumerate(records):
        example = tf.train.Example.FromString(record)
        for name, spec in specs.items():
            why = problem(example, spec, domains)
            if why is None:
                continue
            counts[name] += 1
            if len(found[name]) < SHOWN:
                found[name].append(f"{name_of(example, index, example_names)}: {why}")
    return {
        name: rows + ([f"... and {counts[name] - len(rows)} more"] if counts[name] > len(rows) else [])
        for name, rows in found.items() if rows
    }  # fmt: skip
