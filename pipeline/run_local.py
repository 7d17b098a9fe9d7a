"""Run a task's pipeline locally: LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite.

    python -m pipeline.run_local --task timeseries [--data my.csv] [--set trainer.epochs=5]

Prints each component as it starts and ends, then a summary from ML Metadata.
Exits non-zero, with the reason, when the run stops (for example at the anomaly gate).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

from data.config import PipelineConfig
from pipeline import recovery
from pipeline.config import load_config


class ProgressHandler(logging.Handler):
    """Turns TFX's "Component X is running/finished" log lines into a timed progress display."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.started: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith("Component ") or not message.endswith((" is running.", " is finished.")):
            return
        node = message.split()[1]
        now = time.perf_counter()
        if message.endswith("running."):
            self.started[node] = now
            print(f"[{now - self.t0:7.1f}s] {node} ...", flush=True)
        else:
            took = now - self.started.get(node, now)
            print(f"[{now - self.t0:7.1f}s] {node} done in {took:.1f}s", flush=True)


def setup_logging() -> ProgressHandler:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    warnings = logging.StreamHandler(sys.stderr)
    warnings.setLevel(logging.WARNING)
    progress = ProgressHandler()
    root.handlers = [warnings, progress]
    # TFX reports progress through absl at INFO; tf.saved_model.save (in the Trainer)
    # raises absl's logger to WARNING mid-run, which would silence the progress lines.
    absl_logger = logging.getLogger("absl")
    absl_logger.setLevel(logging.INFO)
    absl_logger.setLevel = lambda level: None
    return progress


def build(config: PipelineConfig, enable_cache: bool = True):
    """The pipeline for a local run; raises (ValueError, FileNotFoundError) on a bad config or schema."""
    from pipeline.create_pipeline import create_pipeline
    from pipeline.profile import load_profile

    # Beam arguments come from the local profile (DirectRunner, multi-processing by default).
    beam_args = load_profile("local").beam_pipeline_args(config)
    return create_pipeline(config, beam_pipeline_args=beam_args, enable_cache=enable_cache)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="timeseries")
    parser.add_argument("--config", help="config YAML (default: pipeline/tasks/<task>.yaml)")
    parser.add_argument("--data", help="your CSV (default: the packaged data set)")
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. trainer.epochs=5")
    parser.add_argument("--no-cache", action="store_true", help="rerun every component (make run-local FRESH=1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    started = time.perf_counter()
    try:  # the config, the data file and the schema are checked before anything runs
        config = load_config(args.task, args.config, args.set, data=args.data, output_dir=args.output_dir)
        pipeline = build(config, enable_cache=not args.no_cache)
    except (ValueError, FileNotFoundError) as error:
        print(f"run-local: {error}", file=sys.stderr)
        return 2
    print(f"Pipeline {config.pipeline_name}: MLMD {config.metadata_path}")
    from pipeline.summary import summarize

    try:
        with recovery.RunLock(str(config.task_dir)):
            for step in recovery.fail_interrupted(config.metadata_path):
                print(f"Marked FAILED in ML Metadata: {step}, left unfinished by a run that was killed")
            from tfx import v1 as tfx

            tfx.orchestration.LocalDagRunner().run(pipeline)
    except recovery.RunInProgress as error:
        print(f"run-local: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the run stopped: say why, then what ran
        print(f"\nRun FAILED after {time.perf_counter() - started:.1f}s: {type(error).__name__}: {error}", file=sys.stderr)
        print(summarize(config.metadata_path), file=sys.stderr)
        return 1
    print(f"\nRun finished in {time.perf_counter() - started:.1f}s")
    print(summarize(config.metadata_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
