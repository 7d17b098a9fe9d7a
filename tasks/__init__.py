"""The tasks: one folder each, registered here by one line.

`REGISTRY` maps a task's name to the module defining its `SPEC` (tasks/taskspec.py). Shared
code asks `spec(name)`; it names no task. A task kept elsewhere (a user's package, a
test's toy task) is added with `register(name, module)`.
"""
from __future__ import annotations

import importlib

REGISTRY: dict[str, str] = {  # name -> module with its SPEC; the first is the default task
    "timeseries": "tasks.timeseries.task",
    "text": "tasks.text.task",
    "vision": "tasks.vision.task",
    "speech": "tasks.speech.task",
    "decision": "tasks.decision.task",
}
DEFAULT_TASK = next(iter(REGISTRY))


def names() -> list[str]:
    return list(REGISTRY)


def spec(name: str):
    """The task's TaskSpec; its config sections are registered on the way (its config module)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown task '{name}'; known: {sorted(REGISTRY)}")
    return importlib.import_module(REGISTRY[name]).SPEC


def register(name: str, module: str) -> None:
    """Add a task whose SPEC is in `module` (importable: on sys.path)."""
    REGISTRY[name] = module
