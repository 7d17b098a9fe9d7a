"""The one way the end-to-end tests run a pipeline: `make run-local`'s own entry point, in process."""
from __future__ import annotations

from pipeline import run_local


def run_task(task: str, output_dir, *overrides: str, data=None, config=None) -> int:
    """`make run-local TASK=task OUTPUT_DIR=... DATA=... CONFIG=... SET="overrides"`; its exit code."""
    argv = ["--task", task, "--output-dir", str(output_dir)]
    argv += ["--data", str(data)] if data else []
    argv += ["--config", str(config)] if config else []
    return run_local.main(argv + [arg for item in overrides for arg in ("--set", item)])
