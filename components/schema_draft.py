"""Shared pieces of drafting a curated schema from train statistics (`make schema`).

Each task's `tasks/<task>/schema_draft.py` decides the features; these helpers
read TFDV statistics and build the proto parts every task uses.
"""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

JS_DRIFT = 0.9  # Jensen-Shannon divergence: 0 same histogram, 1 disjoint (explained in the header)
LINF_DRIFT = 0.1  # L-infinity distance of category shares: ten points


def feature_stats(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, statistics_pb2.FeatureNameStatistics]:
    return {".".join(f.path.step) or f.name: f for f in statistics.datasets[0].features}


def numeric_range(stats: statistics_pb2.FeatureNameStatistics) -> tuple[float, float]:
    return stats.num_stats.min, stats.num_stats.max


def categories(stats: statistics_pb2.FeatureNameStatistics) -> list[str]:
    """Every value of a string feature seen in the statistics (rank histogram, else top values)."""
    buckets = stats.string_stats.rank_histogram.buckets
    values = [b.label for b in buckets] or [v.value for v in stats.string_stats.top_values]
    return sorted(set(values))


def widened(low: float, high: float, margin: float) -> tuple[float, float]:
    """[low, high] widened by `margin` of its span on each side (of |value| when the span is 0)."""
    span = (high - low) or abs(high) or 1.0
    return low - margin * span, high + margin * span


def new_schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    schema.default_environment.extend(["TRAINING", "SERVING"])
    return schema


def add_feature(schema: schema_pb2.Schema, name: str, kind: int, size: int, serving: bool = True) -> schema_pb2.Feature:
    """A feature present in every example, with a fixed shape; absent at serving unless `serving`."""
    feature = schema.feature.add(name=name, type=kind)
    feature.presence.min_fraction = 1.0
    feature.presence.min_count = 1
    feature.shape.dim.add(size=size)
    if not serving:
        feature.not_in_environment.append("SERVING")
    return feature


def add_string_domain(schema: schema_pb2.Schema, feature: schema_pb2.Feature, values: list[str]) -> None:
    feature.domain = feature.name
    schema.string_domain.add(name=feature.name, value=values)


def add_label(schema: schema_pb2.Schema, stats: dict, name: str) -> list[str]:
    """A classifier's label: present in training only, its classes those seen in train, with
    a drift comparator on the class shares. Returns the classes."""
    label = add_feature(schema, name, schema_pb2.BYTES, 1, serving=False)
    classes = categories(stats[name])
    add_string_domain(schema, label, classes)
    label.drift_comparator.infinity_norm.threshold = LINF_DRIFT
    return classes
