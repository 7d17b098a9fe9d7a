"""The config a run ran with, recorded beside its outputs and read back by the commands that show it.

`make run-local DATA=my.csv CONFIG=my.yaml SET=...` resolves a config (the YAML, then the
`--set` overrides, then DATA). A later `make report`, `make predict`, `make serve` or
`make inspect` on the same OUTPUT_DIR must show that run with that config, not with the
task's default YAML (whose columns the user's data does not have). So the local runner
writes the resolved config to `OUTPUT_DIR/<task>/run_config.yaml` (loadable as a CONFIG)
and the schema's text to `run_schema.pbtxt` beside it, and `resolve()` reads them back:
- no CONFIG: the recorded config, with any `--set` overrides on top;
- CONFIG given: CONFIG wins, with a notice naming the keys where it differs from the run's;
- nothing recorded (no run yet, or a run older than this file): the task's default YAML.
The file is the newest run's: a run that is refused or stopped still records what it ran with.
"""
from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import yaml

import tasks
from data.config import PipelineConfig
from pipeline.config import apply_overrides, load_config

RUN_CONFIG_FILE = "run_config.yaml"  # under OUTPUT_DIR/<task>/
RUN_SCHEMA_FILE = "run_schema.pbtxt"
MACHINE_KEYS = ("output_dir",)  # where this machine keeps runs: the CLI's, never the record's
SHOWN_DIFFERENCES = 6  # keys named in the notice; the rest are counted


def run_config_path(task: str, output_dir: str) -> pathlib.Path:
    return pathlib.Path(output_dir).resolve() / task / RUN_CONFIG_FILE


def record(config: PipelineConfig) -> pathlib.Path:
    """Write the resolved config (and the schema's text) of a run about to start; returns its path."""
    raw = {k: v for k, v in config.to_dict().items() if k not in MACHINE_KEYS}
    if raw.get("data") and pathlib.Path(raw["data"]).exists():  # a later command may start elsewhere
        raw["data"] = str(pathlib.Path(raw["data"]).resolve())
    path = run_config_path(config.task, config.output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# The resolved config of the newest run in this directory (written by pipeline/run_local.py).\n"
    path.write_text(header + yaml.safe_dump(raw, sort_keys=False))
    schema = config.schema_path
    if schema and pathlib.Path(schema).exists():
        (path.parent / RUN_SCHEMA_FILE).write_text(pathlib.Path(schema).read_text())
    return path


def recorded(task: str, output_dir: str) -> dict[str, Any] | None:
    """The raw config the newest run recorded, or None."""
    path = run_config_path(task, output_dir)
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else None


def differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two raw configs."""
    found = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            found += differences(left, right, f"{prefix}{key}.")
        elif left != right:
            found.append(f"{prefix}{key}")
    return found


def resolve(
    command: str,
    task: str,
    output_dir: str,
    config_path: str | None = None,
    overrides: list[str] | None = None,
    notice: Callable[[str], None] = print,
    **fields: Any,
) -> PipelineConfig:
    """The config a command that shows a run should use (see the module docstring)."""
    tasks.spec(task)  # registers the task's config sections
    run = recorded(task, output_dir)
    given = {k: v for k, v in fields.items() if v is not None}
    if config_path is None and run is not None:
        raw = apply_overrides(dict(run), overrides or [])
        raw.update(given, output_dir=output_dir)
        return PipelineConfig.from_dict(raw)
    config = load_config(task, config_path, overrides, output_dir=output_dir, **fields)
    if config_path is not None and run is not None:
        mine = {k: v for k, v in config.to_dict().items() if k not in MACHINE_KEYS and k not in given}
        theirs = {k: v for k, v in PipelineConfig.from_dict(dict(run)).to_dict().items() if k in mine}
        changed = differences(mine, theirs)
        if changed:
            named = ", ".join(changed[:SHOWN_DIFFERENCES]) + (f" and {len(changed) - SHOWN_DIFFERENCES} more" if len(changed) > SHOWN_DIFFERENCES else "")
            notice(
                f"{command}: notice: CONFIG={config_path} differs from the config the run in "
                f"{run_config_path(task, output_dir).parent} ran with ({named}); using CONFIG. "
                f"Leave CONFIG out to use the run's ({RUN_CONFIG_FILE})."
            )
    return config
