"""Draft the speech schema: WAVs that decode, clips within the config's duration range, transcripts
that are not empty and stay within the alphabet."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from components import schema_draft as common
from data.config import PipelineConfig
from tasks.speech import features

MAX_RATE, MAX_CHANNELS = 192000, 8  # what a WAV may carry: resampled and mixed down in Transform


def draft(config: PipelineConfig, statistics, margin: float) -> tuple[schema_pb2.Schema, list[str]]:
    """(schema, what to review) from the train split's statistics (`margin` is for numbers: unused)."""
    del margin
    stats = common.feature_stats(statistics)
    speech = config.speech
    schema = common.new_schema()
    common.add_feature(schema, features.AUDIO_KEY, schema_pb2.BYTES, 1)
    common.add_feature(schema, features.TRANSCRIPT_KEY, schema_pb2.BYTES, 1, serving=False)
    for name in (features.TRANSCRIPT_STATUS_KEY, features.AUDIO_STATUS_KEY):
        common.add_string_domain(schema, common.add_feature(schema, name, schema_pb2.BYTES, 1, serving=False), ["ok"])
    common.add_feature(schema, features.FILE_KEY, schema_pb2.BYTES, 1, serving=False)
    common.add_feature(schema, features.SPEAKER_KEY, schema_pb2.BYTES, 1, serving=False)
    ranges = {
        features.DURATION_MS_KEY: (round(speech.min_seconds * 1000), round(speech.max_seconds * 1000)),
        features.SAMPLE_RATE_KEY: (1000, MAX_RATE),
        features.AUDIO_CHANNELS_KEY: (1, MAX_CHANNELS),
    }
    for name, (low, high) in ranges.items():
        feature = common.add_feature(schema, name, schema_pb2.INT, 1, serving=False)
        feature.int_domain.min, feature.int_domain.max = low, high
    seen = {name: common.numeric_range(stats[name]) for name in ranges if name in stats}
    return schema, [
        f"clip length: every clip must last {speech.min_seconds}-{speech.max_seconds} s (speech.min_seconds, "
        f"max_seconds; the '{features.DURATION_MS_KEY}' range); train holds (min, max) {seen.get(features.DURATION_MS_KEY)} ms.",
        f"'{features.TRANSCRIPT_STATUS_KEY}': an empty transcript, or one with characters outside "
        f"speech.alphabet {speech.alphabet!r}, stops the run, naming the file.",
        f"'{features.AUDIO_STATUS_KEY}': a WAV that does not decode (16-bit PCM) stops the run, named.",
        f"sample rates and channels seen in train: {seen.get(features.SAMPLE_RATE_KEY)} Hz, "
        f"{seen.get(features.AUDIO_CHANNELS_KEY)}; every clip is resampled to {speech.sample_rate} Hz and mixed down.",
    ]
