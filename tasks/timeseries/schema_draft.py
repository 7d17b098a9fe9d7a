"""Draft the time-series schema: shapes from the config, ranges and types from train."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from components import schema_draft as common
from data.config import PipelineConfig
from tasks.timeseries import features


def draft(config: PipelineConfig, statistics, margin: float) -> tuple[schema_pb2.Schema, list[str]]:
    """(schema, what to review) for `config.series` from the train split's statistics."""
    series = config.series
    stats = common.feature_stats(statistics)
    schema = common.new_schema()
    review = []
    for column in series.input_columns:
        low, high = common.numeric_range(stats[features.window_key(column)])
        lower, upper = common.widened(low, high, margin)
        window = common.add_feature(schema, features.window_key(column), schema_pb2.FLOAT, series.lookback)
        for feature in [window] + (
            [common.add_feature(schema, features.target_key(column), schema_pb2.FLOAT, series.horizon, serving=False)]
            if column in series.target_columns else []
        ):  # fmt: skip
            feature.float_domain.min, feature.float_domain.max = lower, upper
            feature.float_domain.disallow_nan = feature.float_domain.disallow_inf = True
        window.drift_comparator.jensen_shannon_divergence.threshold = common.JS_DRIFT
        review.append(
            f"'{column}': train values {low:.6g} .. {high:.6g}; allowed {lower:.6g} .. {upper:.6g} "
            f"({margin:.0%} of the range on each side). Set the limits the quantity can really take."
        )
    review.append(
        f"shapes: windows of {series.lookback} (series.lookback) and targets of {series.horizon} "
        "(series.horizon); change them only together with the config."
    )
    review.append(
        f"drift: eval/test vs train, Jensen-Shannon divergence above {common.JS_DRIFT} stops the run "
        "(0 = same distribution, 1 = disjoint); a split by time that crosses seasons shows 0.5 or more."
    )
    return schema, review
