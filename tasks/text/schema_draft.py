"""Draft the text schema: every example has a text and a known label; the classes come from train."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from components import schema_draft as common
from data.config import PipelineConfig
from tasks.text import features


def draft(config: PipelineConfig, statistics, margin: float) -> tuple[schema_pb2.Schema, list[str]]:
    """(schema, what to review) from the train split's statistics (`margin` is for numbers: unused)."""
    del margin
    stats = common.feature_stats(statistics)
    schema = common.new_schema()
    common.add_feature(schema, features.TEXT_KEY, schema_pb2.BYTES, 1)
    classes = common.add_label(schema, stats, features.LABEL_KEY)
    bucket = common.add_feature(schema, features.LENGTH_BUCKET_KEY, schema_pb2.BYTES, 1, serving=False)
    common.add_string_domain(schema, bucket, list(features.LENGTH_BUCKETS))
    return schema, [
        f"'{features.LABEL_KEY}': the classes seen in train are {classes}. A label outside this list stops "
        "the run: add every class the data may hold, remove any that is a typo.",
        f"'{features.TEXT_KEY}': every example needs a non-empty text.",
        f"drift: eval/test vs train, a class share that moves by more than {common.LINF_DRIFT:.0%} "
        "(L-infinity) stops the run.",
    ]
