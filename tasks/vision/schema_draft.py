"""Draft the vision schema: encoded images that decode, at the config's size and channel count,
in the classes seen in train."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from components import schema_draft as common
from data.config import PipelineConfig
from tasks.vision import features


def draft(config: PipelineConfig, statistics, margin: float) -> tuple[schema_pb2.Schema, list[str]]:
    """(schema, what to review) from the train split's statistics (`margin` is for numbers: unused)."""
    del margin
    stats = common.feature_stats(statistics)
    vision = config.vision
    schema = common.new_schema()
    common.add_feature(schema, features.IMAGE_KEY, schema_pb2.BYTES, 1)
    classes = common.add_label(schema, stats, features.LABEL_KEY)
    common.add_feature(schema, features.FILE_KEY, schema_pb2.BYTES, 1, serving=False)
    status = common.add_feature(schema, features.IMAGE_STATUS_KEY, schema_pb2.BYTES, 1, serving=False)
    common.add_string_domain(schema, status, [features.IMAGE_OK])
    sizes = {
        features.IMAGE_HEIGHT_KEY: vision.image_size[0],
        features.IMAGE_WIDTH_KEY: vision.image_size[1],
        features.IMAGE_CHANNELS_KEY: vision.channels,
    }
    for name, size in sizes.items():
        feature = common.add_feature(schema, name, schema_pb2.INT, 1, serving=False)
        feature.int_domain.min = feature.int_domain.max = size
    seen = {name: common.numeric_range(stats[name]) for name in sizes if name in stats}
    return schema, [
        f"'{features.LABEL_KEY}': the classes (sub-folders) seen in train are {classes}. An image in any other "
        "folder stops the run.",
        f"image size: every image must be {vision.image_size[0]}x{vision.image_size[1]} with {vision.channels} "
        f"channel(s) (vision.image_size, vision.channels); train holds (min, max) {seen}. Resize your files, "
        "or change the config and draft again.",
        f"'{features.IMAGE_STATUS_KEY}': a file that does not decode stops the run, named.",
        f"drift: eval/test vs train, a class share that moves by more than {common.LINF_DRIFT:.0%} "
        "(L-infinity) stops the run.",
    ]
