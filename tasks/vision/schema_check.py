"""Where a vision config and its curated schema disagree (data/schemas.py checks it before a run)."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from data.config import PipelineConfig
from data.schemas import label_domain_problems
from tasks.vision import features


def problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    """The image, label and decode features exist; the size and channel domains are the config's."""
    by_name = {f.name: f for f in schema.feature}
    vision = config.vision
    expected = {
        features.IMAGE_HEIGHT_KEY: ("vision.image_size[0]", vision.image_size[0]),
        features.IMAGE_WIDTH_KEY: ("vision.image_size[1]", vision.image_size[1]),
        features.IMAGE_CHANNELS_KEY: ("vision.channels", vision.channels),
    }
    required = (features.IMAGE_KEY, features.LABEL_KEY, features.FILE_KEY, features.IMAGE_STATUS_KEY, *expected)
    problems = [f"feature '{name}' is not in the schema" for name in required if name not in by_name]
    for name, (key, size) in expected.items():
        feature = by_name.get(name)
        if feature is not None and (feature.int_domain.min, feature.int_domain.max) != (size, size):
            problems.append(f"{key} is {size}, but the schema's '{name}' int_domain is "
                            f"[{feature.int_domain.min}, {feature.int_domain.max}]")  # fmt: skip
    return problems + label_domain_problems(schema, by_name)
