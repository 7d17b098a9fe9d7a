"""The curated schema and the task config describe the same examples: check it first.

A schema's shapes are fixed (a window of `lookback` values, `horizon` targets) and its
features are the config's columns. When the two disagree, TFDV reports the examples as
anomalous only after the ExampleGen and StatisticsGen have run, in terms of the schema
alone. `check(config, ...)` says it before anything runs, naming the config key, the
schema file and both values.
"""
from __future__ import annotations

from collections.abc import Callable

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from data import features
from data.config import PipelineConfig


class SchemaMismatch(ValueError):
    """The config and its curated schema disagree."""


def parse(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def load(path: str) -> schema_pb2.Schema:
    with open(path) as handle:
        return parse(handle.read())


def shape_of(feature: schema_pb2.Feature) -> list[int] | None:
    return [d.size for d in feature.shape.dim] if feature.HasField("shape") else None


def timeseries_problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    series = config.series
    by_name = {f.name: f for f in schema.feature}
    expected = {features.window_key(c): ("series.lookback", series.lookback) for c in series.input_columns}
    expected |= {features.target_key(c): ("series.horizon", series.horizon) for c in series.target_columns}
    problems = []
    for name, (key, size) in expected.items():
        if name not in by_name:
            problems.append(f"feature '{name}' (from series columns) is not in the schema")
        elif shape_of(by_name[name]) != [size]:
            problems.append(f"{key} is {size}, but the schema gives feature '{name}' shape {shape_of(by_name[name])}")
    extra = sorted(set(by_name) - set(expected))
    if extra:
        problems.append(
            f"the schema declares {extra}, which series.input_columns {series.input_columns} / "
            f"target_columns {series.target_columns} do not produce"
        )
    return problems


def text_problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    by_name = {f.name: f for f in schema.feature}
    problems = [f"feature '{name}' is not in the schema" for name in (features.TEXT_KEY, features.LABEL_KEY)
                if name not in by_name]  # fmt: skip
    return problems + label_domain_problems(schema, by_name)


def label_domain_problems(schema: schema_pb2.Schema, by_name: dict) -> list[str]:
    """A classifier's label needs a string domain of at least two classes."""
    if features.LABEL_KEY not in by_name:
        return []
    domain = by_name[features.LABEL_KEY].domain
    values = {d.name: list(d.value) for d in schema.string_domain}.get(domain, [])
    if len(values) < 2:
        return [f"the '{features.LABEL_KEY}' feature needs a string domain of at least 2 classes, the schema gives {values}"]
    return []


def vision_problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
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


def speech_problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
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


def decision_problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
    """The episode's sequences and the check features exist."""
    by_name = {f.name for f in schema.feature}
    required = (
        features.EPISODE_KEY, features.STEPS_KEY, features.STATES_KEY, features.ACTIONS_KEY, features.REWARDS_KEY,
        features.EPISODE_LENGTH_KEY, features.TRAJECTORY_STATUS_KEY,
    )  # fmt: skip
    return [f"feature '{name}' is not in the schema" for name in required if name not in by_name]


def check(config: PipelineConfig, schema_text: str, problems_of: Callable[[PipelineConfig, schema_pb2.Schema], list[str]]) -> None:
    """Raise SchemaMismatch listing every disagreement `problems_of` (the task's, from its
    TaskSpec) finds between `config` and its schema."""
    try:
        schema = parse(schema_text)
    except text_format.ParseError as error:
        raise SchemaMismatch(f"the schema {config.schema} is not a valid schema.pbtxt: {error}") from error
    problems = problems_of(config, schema)
    if problems:
        raise SchemaMismatch(
            f"the config and its schema {config.schema} disagree:\n  " + "\n  ".join(problems)
            + "\nEdit one to match the other, or draft a schema from the config with `make schema`."
        )
