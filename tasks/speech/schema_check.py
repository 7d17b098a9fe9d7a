"""Where a speech config and its curated schema disagree (data/schemas.py checks it before a run)."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from data.config import PipelineConfig
from tasks.speech import features


def problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    """The audio, transcript and check features exist; the duration range is the config's."""
    by_name = {f.name: f for f in schema.feature}
    speech = config.speech
    required = (
        features.AUDIO_KEY, features.TRANSCRIPT_KEY, features.TRANSCRIPT_STATUS_KEY, features.FILE_KEY,
        features.AUDIO_STATUS_KEY, features.DURATION_MS_KEY,
    )  # fmt: skip
    problems = [f"feature '{name}' is not in the schema" for name in required if name not in by_name]
    duration = by_name.get(features.DURATION_MS_KEY)
    wanted = (round(speech.min_seconds * 1000), round(speech.max_seconds * 1000))
    if duration is not None and (duration.int_domain.min, duration.int_domain.max) != wanted:
        problems.append(f"speech.min_seconds / max_seconds give {list(wanted)} ms, but the schema's "
                        f"'{features.DURATION_MS_KEY}' int_domain is [{duration.int_domain.min}, {duration.int_domain.max}]")  # fmt: skip
    return problems
