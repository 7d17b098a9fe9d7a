"""Score a whole file with the model the Pusher deployed last, on Beam: `make predict-batch`.

    python -m pipeline.predict_batch --task timeseries [--data my.csv] [--out preds.csv|.jsonl] [--last]

One row per input: its key, the prediction, and the model version, in the inputs' order, in a
CSV (or JSON Lines when OUT ends in .jsonl); default OUT: OUTPUT_DIR/<task>/predictions/<version>.csv.
Inputs the task cannot turn into an example, or that the model refuses, go to <OUT>.errors.csv
with the reason, and the job goes on. What an input is comes from the task (its TaskSpec's
`batch_prediction` module); the Beam graph is components/batch_inference.py.

Beam runs as the pipeline's Beam components do: the profile's preset (`--profile`, default
local, whose `beam.runner: auto` picks in-process or worker processes by the data's size, as
`make run-local` does), so the same command runs on Dataflow with a profile that names it.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time

import tasks
from pipeline import run_config
from pipeline.profile import is_uri, load_profile
from tasks.taskspec import load

COMMAND = "predict-batch"
PREDICTIONS_DIR = "predictions"  # OUTPUT_DIR/<task>/predictions/<version>.csv by default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--data", help="the file to score (default: the task's data)")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--out", help="the predictions file, .csv or .jsonl (default: OUTPUT_DIR/<task>/predictions/<version>.csv)")
    parser.add_argument("--last", action="store_true", help="only the last input (a series: make predict's window)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--profile", default="local", help="deployment profile whose Beam preset runs the job")
    parser.add_argument("--profile-set", action="append", default=[], metavar="KEY=VALUE")
    return parser.parse_args(argv)


def beam_setup(profile, config, data: str) -> tuple[list[str], str]:
    """(Beam arguments, why that runner), as `make run-local` chooses them (pipeline/run_local.py)."""
    from data.sources import size_bytes

    data_bytes = None if is_uri(data) else size_bytes(data)
    runner, why = profile.beam_choice(config, data_bytes)
    return profile.beam_pipeline_args(config, data_bytes), f"{runner} ({why})"


def remove_stale(path: str) -> None:
    """A previous run's errors file would be read as this run's."""
    from apache_beam.io.filesystems import FileSystems

    if FileSystems.exists(path):
        FileSystems.delete([path])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        spec = tasks.spec(args.task)
    except ValueError as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return 2
    if not spec.batch_prediction:
        print(f"{COMMAND}: batch prediction is not available for task '{spec.name}' yet (use `make predict`)", file=sys.stderr)
        return 2
    try:
        config = run_config.resolve(COMMAND, args.task, args.output_dir, args.config, args.set,
                                    data=None if is_uri(args.data) else args.data)  # fmt: skip
        profile = load_profile(args.profile, args.profile_set)
        data = args.data if is_uri(args.data) else spec.call("resolve_data", config)
        from components import batch_inference
        from components.export import serving_versions

        serving_dir = config.serving_dir if profile.target == "local" else profile.serving_dir(config)
        versions = serving_versions(serving_dir)
        if not versions:
            raise FileNotFoundError(f"no pushed model under {serving_dir}: run `make run-local` first")
        version = versions[-1]
        out = args.out or os.path.join(str(config.task_dir), PREDICTIONS_DIR, f"{version}.csv")
        if not is_uri(out):
            out = os.path.abspath(out)
            os.makedirs(os.path.dirname(out), exist_ok=True)
        beam_args, why = beam_setup(profile, config, data)
    except (FileNotFoundError, ValueError) as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return 2
    model_dir = f"{serving_dir.rstrip('/')}/{version}"
    read = functools.partial(load(f"{spec.batch_prediction}.inputs"), config, last=args.last)
    columns = functools.partial(load(f"{spec.batch_prediction}.columns"), config)
    print(f"model: {model_dir}\ndata: {data}{' (last input only)' if args.last else ''}\nBeam: {why}")
    remove_stale(batch_inference.errors_path(out))
    started = time.perf_counter()
    try:
        outcome = batch_inference.run(beam_args, data, read, model_dir, version, columns, out)
    except (FileNotFoundError, ValueError) as error:  # a whole-file problem (unsorted times, a missing column)
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return 1
    print(f"{outcome.predicted} prediction(s) in {time.perf_counter() - started:.1f}s: {out}")
    if outcome.failed:
        print(f"{outcome.failed} input(s) without a prediction, with the reason: {batch_inference.errors_path(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
