"""Run a command that shows a run with TensorFlow's start-up noise routed to the run's logs.

    python -m pipeline.quiet pipeline.predict --task text --output-dir output ...

`import tensorflow` prints CUDA registration errors (cuFFT, cuDNN, cuBLAS) straight to
file descriptor 2 on a machine without a GPU, where no log level reaches them. The
Makefile's predict, serve, report and inspect targets start through here: the
command's module is imported inside `console.Console(prints_to_terminal=True)`, so its
own `print`s reach the terminal while descriptor output, log records and warnings go
to OUTPUT_DIR/<task>/logs/<command>.log, as `make run-local` does with run.log.
"""
from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

import tasks
from pipeline import console


def log_path(command: str, argv: list[str]) -> pathlib.Path:
    """OUTPUT_DIR/<task>/logs/<command>.log, from the command's own --task and --output-dir."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)  # `--out` is not `--output-dir`
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--output-dir", default="output")
    known, _ = parser.parse_known_args(argv)
    return pathlib.Path(known.output_dir).resolve() / known.task / "logs" / f"{command.rpartition('.')[2]}.log"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m pipeline.quiet <module> [its arguments]", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if "-h" in rest or "--help" in rest:  # help is the command's own output: nothing to route
        return importlib.import_module(command).main(rest)
    with console.Console(str(log_path(command, rest)), prints_to_terminal=True):
        return importlib.import_module(command).main(rest)


if __name__ == "__main__":
    sys.exit(main())
