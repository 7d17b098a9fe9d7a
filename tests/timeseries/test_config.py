"""Task config loading: overrides, validation messages, derived paths."""
from __future__ import annotations

import pytest

from pipeline.config import load_config


def test_default_task_config_loads_with_overrides(tmp_path):
    config = load_config("timeseries", overrides=["trainer.epochs=2", "series.lookback=96"], output_dir=str(tmp_path))
    assert config.trainer.epochs == 2 and config.series.lookback == 96
    assert config.metadata_path == str(tmp_path / "timeseries" / "metadata.sqlite")
    assert config.serving_dir == str(tmp_path / "timeseries" / "serving")
    assert config.pipeline_root == str(tmp_path / "timeseries" / "pipeline_root")


def test_unknown_keys_are_rejected_by_name():
    with pytest.raises(ValueError, match=r"unknown keys in 'trainer': \['epoch'\]"):
        load_config("timeseries", overrides=["trainer.epoch=2"])


def test_targets_must_be_inputs():
    with pytest.raises(ValueError, match="target_columns .* must also be in series.input_columns"):
        load_config("timeseries", overrides=["series.target_columns=[salinity]"])


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown task .no-such-task.; known: .*timeseries"):
        load_config("no-such-task")
