"""The bad-input corpus: each case is a file a user might bring and the words its error must say.

Every case is checked in process (`stop_in_process`, tests/test_bad_inputs.py): the pipeline's
own code for each step up to the AnomalyGate says the case's words, in seconds. One case per
stop point (`END_TO_END`: the ExampleGen, the schema, the drift check) also runs through the
real pipeline next to a deployed model, in the time-series and text end-to-end tests, which
check that the run stops before training, says the words, and leaves the deployed model
byte-identical. A full run per case cost 10 to 22 s, for the same messages: 17 of the 25
cases (speech's and vision's bad folders included) no longer run end to end.
"""
from __future__ import annotations

import hashlib
import os
import pathlib

import numpy as np
import pandas as pd


def assert_stopped_at_the_gate(code: int, err: str, words: list[str], config, before: dict[str, str]) -> None:
    """A run on bad data failed at the AnomalyGate, said every one of `words`, ran nothing after
    the gate, and left the deployed models as `before` (a `snapshot`) found them."""
    assert "AnomalyGate" in err
    assert_stopped_before_transform(code, err, words, config, before)


def assert_stopped_before_transform(code: int, err: str, words: list[str], config, before: dict[str, str]) -> None:
    """A run on bad data failed, said every one of `words`, ran nothing from Transform on, and left
    the deployed models as `before` (a `snapshot`) found them."""
    from pipeline import mlmd

    assert code == 1
    assert_says(err, words)
    store = mlmd.open_store(config.metadata_path)
    ran = {e.node for e in mlmd.run_executions(store, mlmd.runs(store)[-1]) if e.state != "FAILED"}
    assert not ran & {"Transform", "Tuner", "Trainer", "Evaluator", "Pusher"}
    assert snapshot(config.serving_dir) == before


def assert_says(message: str, words) -> None:
    """Every one of `words` is in `message` (its tail shown when one is not)."""
    for word in words:
        assert word in message, message[-3000:]


def stop_in_process(config, source: str, root: pathlib.Path) -> str:
    """The message a run on `source` stops with before Transform ('' when nothing stops it),
    computed in process by the pipeline's own code for each step up to the AnomalyGate: the
    task's writer as the ExampleGen runs it, TFDV statistics of each split and their validation
    against the curated schema (what StatisticsGen and ExampleValidator compute), and the gate's
    check. A corpus is checked case by case this way in seconds; one end-to-end run per stop
    point (ExampleGen, schema, drift) shows that the pipeline stops with the same words."""
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    import tasks
    from components import anomaly_gate, example_gen, examples_io
    from data import schemas

    spec = tasks.spec(config.task)
    examples, statistics, anomalies = (root / name for name in ("examples", "statistics", "anomalies"))
    try:
        written = example_gen.write(spec.write_examples, config, source, str(examples))
    except Exception as error:  # the ExampleGen's failure, as the run reports it
        return f"{type(error).__name__}: {error}"
    schema = schemas.load(config.schema_path)
    splits = sorted(written.counts)
    for split in splits:
        # TFDV's own statistics generators, in memory rather than on Beam (same statistics here)
        batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(examples_io.read_split(str(examples), split))
        stats = stats_impl.generate_statistics_in_memory(batch)
        for folder, proto, name in ((statistics, stats, anomaly_gate.STATISTICS_FILE),
                                    (anomalies, tfdv.validate_statistics(stats, schema), anomaly_gate.SCHEMA_DIFF_FILE)):  # fmt: skip
            (folder / f"Split-{split}").mkdir(parents=True, exist_ok=True)
            (folder / f"Split-{split}" / name).write_bytes(proto.SerializeToString())
    try:
        anomaly_gate.check(str(anomalies), splits, str(statistics), schema, str(examples), tuple(spec.example_names))
    except anomaly_gate.DataValidationError as error:
        return str(error)
    return ""


def snapshot(serving_dir: str) -> dict[str, str]:
    """sha256 of every file under the serving directory: byte-identical or not."""
    found = {}
    for path in sorted(pathlib.Path(serving_dir).rglob("*")):
        if path.is_file():
            found[os.path.relpath(path, serving_dir)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# The cases that also run end to end: one per place a run stops (the ExampleGen's reading, the
# schema's validation, the drift check against train).
END_TO_END = ("missing configured column", "NaN", "unknown label", "eval data drifted from train")


def end_to_end(corpus: list[tuple]) -> list[tuple]:
    """The cases of `corpus` that run through the pipeline (`END_TO_END`)."""
    return [case for case in corpus if case[0] in END_TO_END]


# -- time series: (name, frame -> file content or frame, expected words) ------------------


def _set(frame, rows, value):
    frame = frame.copy()
    frame["glucose"] = frame["glucose"].astype(object)
    frame.loc[rows, "glucose"] = value
    return frame


def _swap(frame):
    frame = frame.copy()
    frame.iloc[[100, 101]] = frame.iloc[[101, 100]].to_numpy()
    return frame


def _duplicate_time(frame):
    frame = frame.copy()
    frame.loc[101, "time"] = frame.loc[100, "time"]
    return frame


def _drift(frame):
    """Eval and test from another regime, inside the schema's range: only drift can catch it."""
    frame = frame.copy()
    start = int(len(frame) * 0.7)
    # above everything the tiny slice's train rows reach (371 mg/dL), below the monitor's 400
    frame.loc[start:, "glucose"] = 380.0 + np.random.RandomState(0).uniform(0, 20, len(frame) - start)
    return frame


TIMESERIES = [
    ("empty file", lambda f: "", ["is empty"]),
    ("header only", lambda f: "time,glucose\n", ["has a header", "but no data rows"]),
    ("missing configured column", lambda f: f.rename(columns={"glucose": "bg"}),
     ["no column(s) ['glucose']", "columns: ['time', 'bg']"]),
    ("non-numeric value", lambda f: _set(f, [100, 101], "sensor error"),
     ["feature 'glucose': Unexpected data type"]),
    ("NaN", lambda f: _set(f, [100], np.nan), ["feature 'glucose'", "NaN"]),
    ("infinity", lambda f: _set(f, [100], np.inf), ["feature 'glucose'", "Inf"]),
    ("value outside the schema range", lambda f: _set(f, [100], 500.0), ["feature 'glucose': Out-of-range values"]),
    ("unsorted timestamps", _swap, ["rows are not sorted by 'time'", "data row 102"]),
    ("duplicate timestamps", _duplicate_time, ["duplicate timestamp", "data rows [101, 102]"]),
    ("unparseable timestamp", lambda f: f.assign(time=f["time"].where(f.index != 5, "yesterday")),
     ["unparseable timestamp", "data row 6: 'yesterday'"]),
    ("fewer rows than one window", lambda f: f.iloc[:40], ["too few for one window"]),
    ("eval data drifted from train", _drift, ["[split eval vs train] feature 'glucose'", "Jensen-Shannon"]),
]  # fmt: skip


def write_timeseries_case(make, frame: pd.DataFrame, path: pathlib.Path) -> str:
    content = make(frame)
    if isinstance(content, pd.DataFrame):
        content.to_csv(path, index=False)
    else:
        path.write_text(content)
    return str(path)


# -- text: (name, file bytes, extra config, expected words) -----------------------------

GOOD = [(f"review number {i} was {'great' if i % 2 else 'bad'}", "fresh" if i % 2 else "rotten") for i in range(60)]


def _csv(rows, header="text,label", split=None) -> bytes:
    lines = [header] + [f'"{t}",{y}' + (f",{split(i)}" if split else "") for i, (t, y) in enumerate(rows)]
    return ("\n".join(lines) + "\n").encode()


def _by_position(i: int) -> str:
    return "train" if i < 40 else "eval" if i < 50 else "test"


TEXT = [
    ("empty file", b"", [], ["is empty"]),
    ("header only", b"text,label\n", [], ["has a header", "but no data rows"]),
    ("missing configured column", _csv(GOOD, header="review,label"), [], ["no column(s) ['text']"]),
    ("unknown label", _csv([*GOOD, ("a meh review", "meh")]), [], ["feature 'label'", "meh"]),
    ("empty text", _csv([("", y) for _, y in GOOD]), [], ["feature 'text'"]),
    ("non-UTF-8 file", _csv(GOOD[:10]) + "\"un film très bon\",fresh\n".encode("latin-1"), [],
     ["is not UTF-8 text", "byte 0xe8 on line 12"]),
    ("a class missing from train", _csv([(t, "fresh" if i < 40 else y) for i, (t, y) in enumerate(GOOD)],
                                        "text,label,split", _by_position), ["text.split_column=split"],
     ["no train example", "'rotten'"]),
    ("eval data drifted from train", _csv([(t, "fresh" if 40 <= i < 50 else y) for i, (t, y) in enumerate(GOOD)],
                                          "text,label,split", _by_position), ["text.split_column=split"],
     ["[split eval vs train] feature 'label'", "Linfty"]),
]  # fmt: skip
