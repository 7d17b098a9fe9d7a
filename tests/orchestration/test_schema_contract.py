"""A config that disagrees with its curated schema stops before anything runs, naming both values."""
import pytest

from data import schemas
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline, schema_problems, task_spec
from tasks.timeseries import schema_check as timeseries_schema


def schema_text(config) -> str:
    with open(config.schema_path) as handle:
        return handle.read()


@pytest.mark.parametrize("task", ["timeseries", "text"])
def test_the_shipped_configs_agree_with_their_schemas(task):
    config = load_config(task)
    schemas.check(config, schema_text(config), schema_problems(task_spec(task)))


def test_a_changed_lookback_names_the_key_the_feature_and_both_sizes(tmp_path):
    config = load_config("timeseries", overrides=["series.lookback=24", "series.season=24"], output_dir=str(tmp_path))
    with pytest.raises(schemas.SchemaMismatch) as error:
        create_pipeline(config)
    assert "series.lookback is 24, but the schema gives feature 'glucose' shape [48]" in str(error.value)
    assert config.schema in str(error.value) and "make schema" in str(error.value)


def test_columns_missing_from_or_extra_in_the_schema_are_named():
    config = load_config("timeseries", overrides=["series.input_columns=[glucose, insulin]", "series.horizon=6"])
    problems = timeseries_schema.problems(config, schemas.parse(schema_text(config)))
    assert "feature 'insulin' (from series columns) is not in the schema" in problems
    assert "series.horizon is 6, but the schema gives feature 'glucose_target' shape [12]" in problems
    renamed = load_config("timeseries", overrides=["series.input_columns=[t]", "series.target_columns=[t]"])
    problems = timeseries_schema.problems(renamed, schemas.parse(schema_text(config)))
    assert any("the schema declares ['glucose', 'glucose_target']" in p for p in problems)


def test_a_text_schema_needs_a_label_domain():
    config = load_config("text")
    broken = schema_text(config).replace('value: "rotten"\n', "")
    with pytest.raises(schemas.SchemaMismatch, match="at least 2 classes"):
        schemas.check(config, broken, schema_problems(task_spec("text")))
