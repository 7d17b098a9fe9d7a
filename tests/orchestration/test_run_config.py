"""A run records the config it ran with; the commands that show it read it back."""
import yaml

from data.config import PipelineConfig
from pipeline import run_config
from pipeline.config import load_config, pipeline_config_path

USER = ["series.time_column=stamp", "series.input_columns=[load_a, oil_temp]", "series.target_columns=[oil_temp]",
        "series.season=24", "series.lookback=48"]  # fmt: skip


def user_config(tmp_path) -> PipelineConfig:
    schema = tmp_path / "plant_schema.pbtxt"
    schema.write_text('feature { name: "window_oil_temp" type: FLOAT }\n')
    return load_config("timeseries", None, [*USER, f"schema={schema}"], output_dir=str(tmp_path / "out"))


def test_a_recorded_config_is_what_later_commands_use(tmp_path):
    config = user_config(tmp_path)
    path = run_config.record(config)
    assert path == config.task_dir / run_config.RUN_CONFIG_FILE
    assert (config.task_dir / run_config.RUN_SCHEMA_FILE).read_text().startswith('feature { name: "window_oil_temp"')
    assert "output_dir" not in yaml.safe_load(path.read_text())  # the machine's, not the run's
    notices = []
    again = run_config.resolve("report", "timeseries", str(tmp_path / "out"), notice=notices.append)
    assert again.series.input_columns == ["load_a", "oil_temp"] and again.series.time_column == "stamp"
    assert again.to_dict() == config.to_dict()
    assert notices == []


def test_set_overrides_apply_on_top_of_the_recorded_config(tmp_path):
    run_config.record(user_config(tmp_path))
    config = run_config.resolve("predict", "timeseries", str(tmp_path / "out"), None, ["series.horizon=3"], data="x.csv")
    assert config.series.horizon == 3 and config.series.target_columns == ["oil_temp"] and config.data == "x.csv"


def test_a_config_that_differs_from_the_runs_wins_with_a_notice(tmp_path):
    run_config.record(user_config(tmp_path))
    notices = []
    default = run_config.resolve(
        "report", "timeseries", str(tmp_path / "out"), str(pipeline_config_path("timeseries")), notice=notices.append
    )
    assert default.series.input_columns == ["glucose"]
    assert len(notices) == 1
    for key in ("series.input_columns", "series.time_column", "schema", "CONFIG="):
        assert key in notices[0], key


def test_the_same_config_given_again_gives_no_notice(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    run_config.record(config)
    notices = []
    run_config.resolve("serve", "timeseries", str(tmp_path), str(pipeline_config_path("timeseries")), notice=notices.append)
    assert notices == []


def test_without_a_recorded_run_the_task_default_is_used(tmp_path):
    config = run_config.resolve("report", "text", str(tmp_path), notice=lambda m: (_ for _ in ()).throw(AssertionError(m)))
    assert config.to_dict() == load_config("text", output_dir=str(tmp_path)).to_dict()
