"""The training augmentation settings, which only a task's Trainer reads, checked when the pipeline
is built (`TaskSpec.config_problems`): a bad range then stops the run before ExampleGen, not after
Transform. A task opts in by naming `problems` in its TaskSpec; its module.py has
`augmentation(config)`, the Trainer's own reading of the keys, whose `validate()` raises naming them."""
from __future__ import annotations

import importlib

import tasks
from data.config import PipelineConfig


def problems(config: PipelineConfig) -> list[str]:
    """What is wrong with the task's augmentation settings, each naming its key; [] when nothing is."""
    module = importlib.import_module(f"{tasks.spec(config.task).package}.module")
    try:
        module.augmentation(config).validate()
    except ValueError as error:
        return [str(error)]
    return []
