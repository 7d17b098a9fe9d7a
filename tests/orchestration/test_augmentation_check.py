"""Augmentation settings, read only by a task's Trainer, are checked when the pipeline is built
(tasks/augmentation_check.py): a bad one stops the run before anything runs, naming its key,
instead of failing in the Trainer after ExampleGen, statistics and Transform."""
import pytest

from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from tasks import augmentation_check

CASES = [
    ("vision", "model.elastic=-1", "`model.elastic` (-1)"),
    ("vision", "model.shift=wide", "`model.shift` ('wide')"),
    ("vision", "model.elastic_sigma=0", "`model.elastic_sigma` (0)"),
    ("speech", "model.augmentation.noise=-1", "`model.augmentation.noise` (-1) must be a number >= 0"),
    ("speech", "model.augmentation.time_masks=1.5", "`model.augmentation.time_masks` (1.5) must be a whole number"),
    ("speech", "model.augmentation.speed=1", "`model.augmentation.speed` (1) must be < 1"),
    ("speech", "model.augmentation.time_mask_fraction=2", "`model.augmentation.time_mask_fraction` (2) must be <= 1"),
    ("speech", "model.augmentation.nois=0", "`model.augmentation` has unknown keys ['nois']"),
    ("speech", "model.augmentation=3", "`model.augmentation` must map Augmentation fields to values"),
]


@pytest.mark.parametrize("task, override, named", CASES)
def test_a_bad_augmentation_setting_stops_the_pipeline_before_it_runs_naming_the_key(tmp_path, task, override, named):
    config = load_config(task, overrides=[override], output_dir=str(tmp_path))
    with pytest.raises(ValueError, match=f"the {task} config") as error:
        create_pipeline(config)
    assert named in str(error.value)
    assert not list(tmp_path.iterdir())  # nothing written: no pipeline root, no store


@pytest.mark.parametrize("task", ["vision", "speech"])
def test_the_shipped_configs_have_no_augmentation_problems(task):
    assert augmentation_check.problems(load_config(task)) == []
