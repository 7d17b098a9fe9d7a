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


def label_domain_problems(schema: schema_pb2.Schema, by_name: dict) -> list[str]:
    """A classifier's label needs a string domain of at least two classes."""
    if features.LABEL_KEY not in by_name:
        return []
    domain = by_name[features.LABEL_KEY].domain
    values = {d.name: list(d.value) for d in schema.string_domain}.get(domain, [])
    if len(values) < 2:
        return [f"the '{features.LABEL_KEY}' feature needs a string domain of at least 2 classes, the schema gives {values}"]
    return []


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
