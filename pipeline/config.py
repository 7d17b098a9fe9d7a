"""Load the task configuration from `tasks/<task>/config.yaml` (or a user's YAML).

Every runner (local, Kubeflow, Vertex) and every module file reads the same object
(`data/config.py`), so a setting is spelled once.
"""
from __future__ import annotations

import pathlib
from typing import Any

import yaml

import tasks
from data.config import PipelineConfig


def _parse_value(text: str) -> Any:
    """`--set` values are YAML scalars or lists: `3`, `0.1`, `1e-4`, `[a, b]`, `null`."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:  # YAML 1.1 reads `1e-4` (no dot) as a string
            return float(value)
        except ValueError:
            pass
    return value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `section.key=value` overrides to a raw config dict."""
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override '{item}' must look like section.key=value")
        dotted, value = item.split("=", 1)
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _parse_value(value)
    return raw


def pipeline_config_path(task: str) -> pathlib.Path:
    """The task's own YAML, `tasks/<task>/config.yaml` (its TaskSpec's `default_config`)."""
    return tasks.spec(task).default_config


def load_config(
    task: str = tasks.DEFAULT_TASK,
    config_path: str | None = None,
    overrides: list[str] | None = None,
    **fields: Any,
) -> PipelineConfig:
    """Read the task's YAML (or `config_path`), apply overrides and fields."""
    path = pathlib.Path(config_path) if config_path else pipeline_config_path(task)
    if not path.exists():
        raise FileNotFoundError(f"no config for task '{task}' at {path} (known tasks: {tasks.names()})")
    raw = yaml.safe_load(path.read_text()) or {}
    raw = apply_overrides(raw, overrides or [])
    raw.update({k: v for k, v in fields.items() if v is not None})
    tasks.spec(raw.get("task", task))  # registers the config sections of the task the YAML is for
    raw.setdefault("task", task)
    return PipelineConfig.from_dict(raw)
