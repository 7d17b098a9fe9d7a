"""Run the benchmarks, print one table per benchmark and write them to bench/results/.

Each benchmark module exposes ``run(args) -> list[dict]`` (one row per measured
variant). Baselines are always measured in the same run as what they are compared
with, so ratios are meaningful on whatever machine runs this.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pathlib
import platform
import time

import tasks

# name -> module; order is the print order: shared benchmarks around each task's own (its TaskSpec's).
SHARED_FIRST = {"attention": "bench.attention", "sine": "bench.sine", "gate_error_rates": "bench.gate_error_rates"}
SHARED_LAST = {
    "serving": "bench.serving",  # serves the models the text and time-series runs made, under HTTP load
    "trainer_speed": "bench.trainer_speed",  # a default run per task, its Trainer profiled
    "beam_modes": "bench.beam_modes",  # Beam in one process against worker processes, by data size
    "scale": "bench.scale",  # each component's time, memory and disk at 1x, 4x, 16x the data; growth exponents
}


def benchmarks() -> dict[str, str]:
    found = dict(SHARED_FIRST)
    for name in tasks.names():
        found.update(tasks.spec(name).benchmarks)
    return {**found, **SHARED_LAST}


RESULTS_DIR = pathlib.Path(__file__).parent / "results"


def format_table(rows: list[dict]) -> str:
    """Fixed-width text table of ``rows`` (all keys of all rows, in first-seen order)."""
    if not rows:
        return "(no rows)"
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    widths = {c: max(len(c), *(len(cell(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=list(benchmarks()), help="benchmarks to run")
    parser.add_argument("--output-dir", default="output", help="pipeline OUTPUT_DIR (for pipeline benchmarks)")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="vision, speech, decision: reuse the pipeline runs already under bench/results/ instead of fresh ones; scale: the table of the runs saved under OUTPUT_DIR/scale_runs, running none")  # fmt: skip
    parser.add_argument("--seeds", type=int, help="speech: at most this many seeds per split (default: each split's own)")
    parser.add_argument("--trainer-speed-tasks", nargs="*", help="trainer_speed: the tasks to run (default: all)")
    parser.add_argument("--trainer-speed-set", nargs="*", help="trainer_speed: config overrides for every run")
    parser.add_argument("--scale-factors", nargs="*", type=int, help="scale: data sizes to run (default: 1 4 16)")
    parser.add_argument("--scale-tasks", nargs="*", help="scale: the tasks to run (default: timeseries text)")
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        module = importlib.import_module(benchmarks()[name])
        started = time.perf_counter()
        rows = module.run(args)
        elapsed = time.perf_counter() - started
        print(f"\n== {name} ({elapsed:.1f} s) ==")
        print(format_table(rows))
        result = {
            "benchmark": name,
            "machine": platform.platform(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds": elapsed,
            "rows": rows,
        }
        path = RESULTS_DIR / f"{name}.json"
        path.write_text(json.dumps(result, indent=2))
        print(f"-> {path}")


if __name__ == "__main__":
    main()
