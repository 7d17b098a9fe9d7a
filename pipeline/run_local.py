"""Run a task's pipeline locally: LocalDagRunner, Beam (DirectRunner by default), ML Metadata in SQLite.

    python -m pipeline.run_local --task timeseries [--data my.csv] [--set trainer.epochs=5]

Prints each component as it starts and ends, then a summary from ML Metadata; all
other output (TensorFlow, Beam, TFX logs) goes to OUTPUT_DIR/<task>/logs/run.log
(pipeline/console.py). Exits non-zero, with the reason, when the run stops (for
example at the anomaly gate).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator

import tasks
from data.config import PipelineConfig
from pipeline import console, portable, recovery, run_config
from pipeline.config import load_config

LOG_FILE = "logs/run.log"  # under OUTPUT_DIR/<task>/


@contextlib.contextmanager
def beam_setup(config: PipelineConfig) -> Iterator[tuple[list[str], str]]:
    """(Beam arguments, why that runner) for the block: the local profile's preset, chosen by the
    data's size under `beam.runner: auto` (in this process for small data, worker processes for
    large). A preset that names local Beam services (`portable`: a job service and an external
    worker pool) has them started for the block and stopped after it (pipeline/portable.py)."""
    from data.sources import size_bytes
    from pipeline.profile import load_profile

    data_bytes = size_bytes(tasks.spec(config.task).call("resolve_data", config), config.spans)
    profile = load_profile("local")
    runner, why = profile.beam_choice(config, data_bytes)
    if not portable.needs_services(profile.beam_preset(runner)):
        yield profile.beam_pipeline_args(config, data_bytes), f"{runner} ({why})"
        return
    with portable.services(config.task_dir / "logs", profile.section("beam").get("service_ports")) as services:
        args = profile.beam_pipeline_args(config, data_bytes, services.values())
        moved = "; preferred ports taken, so the Beam components rerun" if services.moved else ""
        yield args, (f"{runner} ({why}; job service {services.job_endpoint}, worker pool {services.worker_pool}"
                     f"{moved}; their logs: {services.pool_log.parent})")  # fmt: skip


def build(config: PipelineConfig, beam_args: list[str], enable_cache: bool = True):
    """The pipeline for a local run; raises (ValueError, FileNotFoundError) on a bad config or schema."""
    from pipeline.create_pipeline import create_pipeline

    return create_pipeline(config, beam_pipeline_args=beam_args, enable_cache=enable_cache)


def arguments(task: str, output_dir: str, data: str | None = None, config: str | None = None,
              settings: list[str] | tuple[str, ...] = ()) -> list[str]:  # fmt: skip
    """`main`'s arguments for a run of `task` (the simulated schedule, benchmarks)."""
    args = ["--task", task, "--output-dir", output_dir]
    args += [*(["--data", data] if data else []), *(["--config", config] if config else [])]
    for item in settings:
        args += ["--set", item]
    return args


def command(task: str, output_dir: str, data: str | None = None, config: str | None = None,
            settings: list[str] | tuple[str, ...] = ()) -> list[str]:  # fmt: skip
    """This module's command line for a run in a fresh process (benchmarks)."""
    return [sys.executable, "-m", "pipeline.run_local", *arguments(task, output_dir, data, config, settings)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: tasks/<task>/config.yaml)")
    parser.add_argument("--data", help="your CSV (default: the packaged data set)")
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. trainer.epochs=5")
    parser.add_argument("--no-cache", action="store_true", help="rerun every component (make run-local FRESH=1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.task, args.config, args.set, data=args.data, output_dir=args.output_dir)
    except (ValueError, FileNotFoundError) as error:
        print(f"run-local: {error}", file=sys.stderr)
        return 2
    with console.Console(str(config.task_dir / LOG_FILE)) as terminal:
        return run(config, args, terminal)


def run(config: PipelineConfig, args: argparse.Namespace, terminal: console.Console) -> int:
    started = time.perf_counter()
    terminal.say(f"Pipeline {config.pipeline_name}: MLMD {config.metadata_path}")
    terminal.say(f"Full log: {terminal.log_path}")
    try:
        with beam_setup(config) as (beam_args, beam_why):
            return run_with(config, args, terminal, beam_args, beam_why, started)
    except (ValueError, FileNotFoundError, portable.ServiceError) as error:  # a bad preset, or its services did not start
        terminal.say(f"run-local: {error}", error=True)
        return 2


def run_with(config: PipelineConfig, args: argparse.Namespace, terminal: console.Console,
             beam_args: list[str], beam_why: str, started: float) -> int:  # fmt: skip
    try:  # the data file and the schema are checked against the config before anything runs
        pipeline = build(config, beam_args, enable_cache=not args.no_cache)
    except (ValueError, FileNotFoundError) as error:
        terminal.say(f"run-local: {error}", error=True)
        return 2
    terminal.say(f"Beam: {beam_why}")
    terminal.say(f"Config: {run_config.record(config)}")  # what make report/predict/serve/inspect read
    watcher = console.ProgressWatcher(config.metadata_path, terminal)
    try:
        with recovery.RunLock(str(config.task_dir)):
            for step in recovery.fail_interrupted(config.metadata_path):
                terminal.say(f"Marked FAILED in ML Metadata: {step}, left unfinished by a run that was killed")
            from tfx.orchestration.local.local_dag_runner import LocalDagRunner

            watcher.start()
            try:
                LocalDagRunner().run(pipeline)
            finally:
                watcher.stop()
    except recovery.RunInProgress as error:
        terminal.say(f"run-local: {error}", error=True)
        return 1
    except Exception as error:  # the run stopped: say why, then what ran
        terminal.say(f"\nRun FAILED after {time.perf_counter() - started:.1f}s: {type(error).__name__}: {error}", error=True)
        show_summary(terminal, config, error=True)
        terminal.say(f"Full log: {terminal.log_path}", error=True)
        return 1
    terminal.say(f"\nRun finished in {time.perf_counter() - started:.1f}s")
    show_summary(terminal, config)
    return 0


def show_summary(terminal: console.Console, config: PipelineConfig, error: bool = False) -> None:
    """The summary with overall metrics on the terminal; the full one, slices included, in the log."""
    from pipeline.summary import summaries

    shown, full = summaries(config.metadata_path, config.task)  # the store and the evaluation read once
    terminal.say(shown, error=error)
    terminal.note("Full summary, with the metrics of slices:\n" + full)


if __name__ == "__main__":
    sys.exit(main())
