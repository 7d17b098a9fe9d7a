"""Where a text config and its curated schema disagree (data/schemas.py checks it before a run)."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from data.config import PipelineConfig
from data.schemas import label_domain_problems
from tasks.text import features


def problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    by_name = {f.name: f for f in schema.feature}
    problems = [f"feature '{name}' is not in the schema" for name in (features.TEXT_KEY, features.LABEL_KEY)
                if name not in by_name]  # fmt: skip
    return problems + label_domain_problems(schema, by_name)
