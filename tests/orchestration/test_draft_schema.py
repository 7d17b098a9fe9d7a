"""`make schema`: a drafted schema takes its shapes from the config and its ranges and classes
from train, is never written over an existing file without FORCE, and agrees with its config."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import schemas
from pipeline import draft_schema
from pipeline.config import load_config, pipeline_config_path
from pipeline.create_pipeline import schema_problems, task_spec


@pytest.fixture
def series_csv(tmp_path):
    times = pd.date_range("2024-01-01", periods=600, freq="h")
    values = 10 + 5 * np.sin(np.arange(600) / 24 * 2 * np.pi)  # 5 .. 15
    path = tmp_path / "series.csv"
    pd.DataFrame({"when": times, "level": values}).to_csv(path, index=False)
    return str(path)


def series_config(tmp_path, csv):
    overrides = ["series.time_column=when", "series.input_columns=[level]", "series.target_columns=[level]",
                 "series.lookback=24", "series.horizon=6", "series.season=24", f"schema={tmp_path}/drafted.pbtxt"]  # fmt: skip
    return load_config("timeseries", overrides=overrides, data=csv, output_dir=str(tmp_path / "out"))


@pytest.mark.slow
def test_a_time_series_schema_is_drafted_from_config_and_train(tmp_path, series_csv):
    config = series_config(tmp_path, series_csv)
    path, review = draft_schema.draft(config)
    schema = schemas.load(path)
    by_name = {f.name: f for f in schema.feature}
    assert [d.size for d in by_name["level"].shape.dim] == [24]
    assert [d.size for d in by_name["level_target"].shape.dim] == [6]
    domain = by_name["level"].float_domain
    margin = draft_schema.DEFAULT_MARGIN * 10  # of the train range, 5..15
    assert domain.min == pytest.approx(5 - margin, abs=0.1) and domain.max == pytest.approx(15 + margin, abs=0.1)
    assert domain.disallow_nan and domain.disallow_inf
    assert list(by_name["level_target"].not_in_environment) == ["SERVING"]
    assert by_name["level"].drift_comparator.jensen_shannon_divergence.threshold == pytest.approx(0.9)
    assert any("'level': train values" in line for line in review)
    with open(path) as handle:
        schemas.check(config, handle.read(), schema_problems(task_spec("timeseries")))  # agrees with its config


@pytest.mark.slow
def test_an_existing_schema_is_kept_unless_forced(tmp_path, series_csv):
    config = series_config(tmp_path, series_csv)
    (tmp_path / "drafted.pbtxt").write_text("# mine\n")
    with pytest.raises(FileExistsError, match="FORCE=1"):
        draft_schema.draft(config)
    assert (tmp_path / "drafted.pbtxt").read_text() == "# mine\n"
    draft_schema.draft(config, force=True)
    assert "feature" in (tmp_path / "drafted.pbtxt").read_text()


@pytest.mark.slow
def test_a_text_schema_lists_the_classes_seen_in_train(tmp_path):
    rows = [(f"text {i} {'good' if i % 3 else 'bad'}", ["pos", "neg", "neutral"][i % 3]) for i in range(90)]
    csv = tmp_path / "texts.csv"
    pd.DataFrame(rows, columns=["body", "tag"]).to_csv(csv, index=False)
    config = load_config("text", overrides=["text.text_column=body", "text.label_column=tag",
                                            f"schema={tmp_path}/text.pbtxt"], data=str(csv))  # fmt: skip
    path, review = draft_schema.draft(config)
    schema = schemas.load(path)
    assert {d.name: list(d.value) for d in schema.string_domain}["label"] == ["neg", "neutral", "pos"]
    assert any("['neg', 'neutral', 'pos']" in line for line in review)


@pytest.mark.slow
def test_the_cli_says_what_to_do(tmp_path, series_csv, capsys):
    config_yaml = tmp_path / "my.yaml"
    shipped = pipeline_config_path("timeseries").read_text()
    config_yaml.write_text(shipped.replace("schema: tasks/timeseries/schema.pbtxt", f"schema: {tmp_path}/cli.pbtxt"))
    assert draft_schema.main(["--config", str(config_yaml), "--output-dir", str(tmp_path / "out")]) == 0
    assert "Review:" in capsys.readouterr().out
    assert draft_schema.main(["--config", str(config_yaml), "--output-dir", str(tmp_path / "out")]) == 2
    assert "FORCE=1" in capsys.readouterr().err
