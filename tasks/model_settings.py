"""The `model:` settings, which only a task's Trainer reads, checked when the pipeline is built
(`TaskSpec.config_problems`, every task's by default): a typo or a bad range then stops the run
before ExampleGen, instead of being ignored (an unknown key) or failing after Transform.

A task's module.py declares `MODEL_KEYS`, every `model.` key it reads (a test checks the
declaration against the keys its code reads), and may have `augmentation(config)`, the
Trainer's own reading of its augmentation keys, whose `validate()` raises naming them."""
from __future__ import annotations

import importlib

import tasks
from data.config import PipelineConfig, check_known_keys


def problems(config: PipelineConfig) -> list[str]:
    """What is wrong with the task's `model:` settings, each naming its key; [] when nothing is."""
    module = importlib.import_module(tasks.spec(config.task).module)
    try:
        if hasattr(module, "MODEL_KEYS"):
            check_known_keys("model", config.model, module.MODEL_KEYS)  # as every other section's keys
        if hasattr(module, "augmentation"):
            module.augmentation(config).validate()
    except ValueError as error:
        return [str(error)]
    return []
