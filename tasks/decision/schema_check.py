"""Where a decision config and its curated schema disagree (data/schemas.py checks it before a run)."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from data.config import PipelineConfig
from tasks.decision import features


def problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    """The episode's sequences and the check features exist."""
    by_name = {f.name for f in schema.feature}
    required = (
        features.EPISODE_KEY, features.STEPS_KEY, features.STATES_KEY, features.ACTIONS_KEY, features.REWARDS_KEY,
        features.EPISODE_LENGTH_KEY, features.TRAJECTORY_STATUS_KEY,
    )  # fmt: skip
    return [f"feature '{name}' is not in the schema" for name in required if name not in by_name]
