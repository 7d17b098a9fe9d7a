"""Draft a curated schema for your own data, for you to review (`make schema`).

    make schema TASK=timeseries DATA=my.csv CONFIG=my.yaml [FORCE=1]

The CSV goes through the task's own ExampleGen code (the same splits, windows and
features as a run), TFDV computes statistics of the train split, and the task drafts
the schema: shapes from the config, types from the data, ranges with a stated margin,
string domains from train, drift thresholds. It is written where the config's
`schema:` points, never over an existing file unless FORCE=1, and the points to
review are printed. Review it, then `make run-local DATA=... CONFIG=...`.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

from google.protobuf import text_format

import tasks
from data import schemas
from data.config import PipelineConfig
from pipeline import console
from pipeline.config import load_config

# Fraction of the train range added on each side of a numeric range. A drafted range is there to
# catch impossible values (a unit change, a sensor fault), not a series moving with the seasons:
# on the first 3,000 hours of ETTh2 the test split's oil temperature falls 0.28 of the train range
# below train's minimum, and a margin of 0.25 stopped that run. One range on each side still stops
# a Fahrenheit column where Celsius was trained.
DEFAULT_MARGIN = 1.0


def train_statistics(examples_uri: str):
    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=in_memory"])
    pattern = os.path.join(examples_uri, "Split-train", "*")
    return tfdv.generate_statistics_from_tfrecord(data_location=pattern, pipeline_options=options)


def draft(config: PipelineConfig, force: bool = False, margin: float = DEFAULT_MARGIN) -> tuple[str, list[str]]:
    """Write the drafted schema at `config.schema_path`; returns (path, what to review)."""
    from components import example_gen  # TensorFlow: imported inside the run's Console
    from pipeline.create_pipeline import schema_problems

    spec = tasks.spec(config.task)
    if spec.draft_schema is None:
        raise ValueError(f"task '{config.task}' drafts no schema: its curated schema ({config.schema}) fits any data of its form")
    if not config.schema:
        raise ValueError("the config has no `schema:`: set where the drafted schema should be written")
    path = config.schema_path
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists: review or edit it, or run again with FORCE=1 to overwrite it")
    csv = spec.call("resolve_data", config)
    with tempfile.TemporaryDirectory() as work:
        example_gen.write(spec.write_examples, config, csv, work)  # the ExampleGen's own code: same splits and features
        statistics = train_statistics(work)
    schema, review = spec.call("draft_schema", config, statistics, margin)
    header = [
        f"# Drafted by `make schema` on {datetime.date.today()} from {os.path.basename(csv)} (train split)",
        f"# for task '{config.task}'. Review it before use:",
        *[f"#   - {line}" for line in review],
    ]
    text = "\n".join(header) + "\n" + text_format.MessageToString(schema)
    schemas.check(config, text, schema_problems(spec))  # the draft agrees with the config it came from
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path, review


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="your config YAML; its `schema:` says where to write")
    parser.add_argument("--data", help="your CSV")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--force", action="store_true", help="overwrite an existing schema (FORCE=1)")
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="range margin, fraction of the train range")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.task, args.config, args.set, data=args.data, output_dir=args.output_dir)
    except (ValueError, FileNotFoundError) as error:
        print(f"schema: {error}", file=sys.stderr)
        return 2
    with console.Console(str(config.task_dir / "logs" / "schema.log")) as terminal:  # TF/Beam output to the log
        try:
            path, review = draft(config, args.force, args.margin)
        except (ValueError, FileNotFoundError, FileExistsError) as error:
            terminal.say(f"schema: {error}", error=True)
            return 2
        terminal.say(f"Drafted {path}. Review:")
        terminal.say("\n".join(f"  - {line}" for line in review))
        terminal.say(f"Then: make run-local TASK={config.task} DATA={config.data or '...'} CONFIG={args.config or '...'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
