"""Predict with the model the Pusher deployed last: `make predict TASK=... [its options]`.

    python -m pipeline.predict --task timeseries [--data my.csv] [the task's options]

The task's predictor (its TaskSpec's `predictor`) loads the newest version under
OUTPUT_DIR/<task>/serving/, builds raw tf.Examples exactly as a serving client would, and
prints the predictions in the user's units. A task's own options (`--text`, `--file`...)
come from its spec, and each may be given as a make variable of the same name
(`make predict TASK=text TEXT="..."`): the Makefile passes none of them by name.
"""
from __future__ import annotations

import argparse
import os
import sys

import tasks
from pipeline import run_config

TYPES = {"str": str, "float": float, "int": int}


def parser_for(spec) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--data", help="the data whose last rows (or files) are the model's input, for tasks that read it")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    for option in spec.predict_options:
        from_make = os.environ.get(option.variable) or None  # `make predict VAR=...` exports VAR
        default = [from_make] if option.repeat and from_make else from_make
        parser.add_argument(
            option.flag, type=TYPES[option.type], action="append" if option.repeat else "store",
            default=default, help=f"{option.help} (make: {option.variable}=...)",
        )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--task", default=tasks.DEFAULT_TASK)
    try:
        spec = tasks.spec(first.parse_known_args(argv)[0].task)
    except ValueError as error:
        print(f"predict: {error}", file=sys.stderr)
        return 2
    if not spec.predictor:
        print(f"predict: task '{spec.name}' has no predictor", file=sys.stderr)
        return 2
    args = parser_for(spec).parse_args(argv)
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("predict", args.task, args.output_dir, args.config, args.set, data=args.data)
    except (FileNotFoundError, ValueError) as error:
        print(f"predict: {error}", file=sys.stderr)
        return 2
    try:
        spec.call("predictor", config, args)
    except (FileNotFoundError, ValueError) as error:
        print(f"predict: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
