"""Where a timeseries config and its curated schema disagree (data/schemas.py checks it before a run)."""
from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from data.config import PipelineConfig
from data.schemas import shape_of
from tasks.timeseries import features


def problems(config: PipelineConfig, schema: schema_pb2.Schema) -> list[str]:
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
