"""The `model:` settings, which only a task's Trainer reads, checked when the pipeline is built
(`TaskSpec.config_problems`, every task's by default): a typo or a bad range then stops the run
before ExampleGen, instead of being ignored (an unknown key) or failing after Transform.

A task's module.py declares `MODEL_KEYS`, every `model.` key it reads (a test checks the
declaration against the keys its code reads), and may have `augmentation(config)`, the
Trainer's own reading of its augmentation keys, whose `validate()` raises naming them."""
from __future__ import annotations

import importlib

import tasks
from data.config import PipelineConfig


def problems(config: PipelineConfig) -> list[str]:
    """What is wrong with the task's `model:` settings, each naming its key; [] when nothing is."""
    module = importlib.import_module(f"{tasks.spec(config.task).package}.module")
    known = getattr(module, "MODEL_KEYS", None)
    unknown = sorted(set(config.model) - set(known)) if known is not None else []
    if unknown:  # the wording of data/config.py's check of the other sections
        return [f"unknown keys in 'model': {unknown} (known: {sorted(known)})"]
    if not hasattr(module, "augmentation"):
        return []
    try:
        module.augmentation(config).validate()
    except ValueError as error:
        return [str(error)]
    return []
