"""`make monitor` (pipeline/monitor.py) on a small real ML Metadata store and request files
written in the request-log contract's format: skew against training, drift against the
previous window, the window (LAST and the cursor), the record in ML Metadata, the exit codes."""
from __future__ import annotations

import datetime
import json
import pathlib
import uuid

import ml_metadata as mlmd_lib
import numpy as np
import pytest
import tensorflow as tf
from ml_metadata.proto import metadata_store_pb2 as pb

from components import serving_monitor
from pipeline import mlmd, monitor
from reporting import monitoring
from serving import request_log

TASK = "toy"
FEATURE, TARGET = "level", "level_target"
LOOKBACK, MEAN, STD = 8, 137.0, 50.0
THRESHOLD = 0.1  # skew, in this test schema; the shipped schemas measure theirs on their data
DRIFT_THRESHOLD = 0.05  # apart, so that a drift test can stay below the skew threshold
SCHEMA = f"""
default_environment: "TRAINING"
default_environment: "SERVING"
feature {{
  name: "{FEATURE}" type: FLOAT
  presence {{ min_fraction: 1.0 min_count: 1 }}
  shape {{ dim {{ size: {LOOKBACK} }} }}
  float_domain {{ min: -1000.0 max: 1000.0 }}
  skew_comparator {{ jensen_shannon_divergence {{ threshold: {THRESHOLD} }} }}
  drift_comparator {{ jensen_shannon_divergence {{ threshold: {DRIFT_THRESHOLD} }} }}
}}
feature {{
  name: "{TARGET}" type: FLOAT
  presence {{ min_fraction: 1.0 min_count: 1 }}
  shape {{ dim {{ size: 2 }} }}
  not_in_environment: "SERVING"
}}
"""


def windows(seed: int, count: int) -> np.ndarray:
    """(count, LOOKBACK) values of one stationary process (a seed is a period of it)."""
    return np.random.default_rng(seed).normal(MEAN, STD, size=(count, LOOKBACK)).astype(np.float32)


def training_example(window: np.ndarray) -> tf.train.Example:
    example = tf.train.Example()
    example.features.feature[FEATURE].float_list.value.extend(window)
    example.features.feature[TARGET].float_list.value.extend(window[-2:])
    return example


def write_requests(task_dir: pathlib.Path, rows: np.ndarray, start_ms: int, sequence: int = 0, version: int = 7) -> list[int]:
    """One request file in the contract's format; the requests' times (ms, 10 ms apart)."""
    folder = pathlib.Path(request_log.folder(task_dir))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.fromtimestamp(start_ms / 1000, datetime.UTC).strftime("%Y%m%dT%H%M%S")
    times = [start_ms + 10 * i for i in range(len(rows))]
    with tf.io.TFRecordWriter(str(folder / f"requests-{stamp}-{sequence:05d}.tfrecord")) as writer:
        for row, millis in zip(rows, times, strict=False):
            example = tf.train.Example()
            features = example.features.feature
            features[FEATURE].float_list.value.extend(row)
            features["__key__"].bytes_list.value.append(uuid.uuid4().hex.encode())
            features["__time__"].int64_list.value.append(millis)
            features["__version__"].int64_list.value.append(version)
            features["__output__forecast"].float_list.value.extend(row[-2:])
            writer.write(example.SerializeToString())
    return times


def put_output(store, run_id: int, node_type: int, node: str, key: str, type_name: str, uri: str, custom: dict):
    """One execution of `node` in the run, with one output artifact: as TFX records it."""
    artifact = pb.Artifact(type_id=store.put_artifact_type(pb.ArtifactType(name=type_name)), uri=uri)
    for name, value in custom.items():
        artifact.custom_properties[name].int_value = value
    execution = pb.Execution(type_id=store.put_execution_type(pb.ExecutionType(name=node)),
                             last_known_state=pb.Execution.COMPLETE)  # fmt: skip
    [node_context] = store.put_contexts([pb.Context(type_id=node_type, name=f"{TASK}.{node}")])
    event = pb.Event(type=pb.Event.OUTPUT)
    event.path.steps.add().key = key
    contexts = store.get_contexts_by_id([run_id, node_context])
    store.put_execution(execution, [(artifact, event)], contexts)


def build_store(task_dir: pathlib.Path, pushed: bool = True, schema: str = SCHEMA) -> None:
    """A one-run store: the curated schema, the training statistics and (if `pushed`) a push."""
    schema_uri, statistics_uri = task_dir / "root" / "schema", task_dir / "root" / "statistics"
    schema_uri.mkdir(parents=True)
    (schema_uri / "schema.pbtxt").write_text(schema)
    train = serving_monitor.statistics([training_example(w) for w in windows(0, 600)])
    monitor.write_proto(statistics_uri / "Split-train" / "FeatureStats.pb", train)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(task_dir / "metadata.sqlite")
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    store = mlmd_lib.MetadataStore(config)
    run_type = store.put_context_type(pb.ContextType(name=mlmd.RUN_CONTEXT))
    node_type = store.put_context_type(pb.ContextType(name=mlmd.NODE_CONTEXT))
    [run_id] = store.put_contexts([pb.Context(type_id=run_type, name="run-1")])
    put_output(store, run_id, node_type, "CuratedSchemaGen", "schema", "Schema", str(schema_uri), {})
    put_output(store, run_id, node_type, "StatisticsGen", "statistics", "ExampleStatistics", str(statistics_uri), {})
    put_output(store, run_id, node_type, "Pusher", "pushed_model", "PushedModel", str(task_dir / "serving" / "7"),
               {"pushed": int(pushed), "pushed_version": 7})  # fmt: skip


@pytest.fixture()
def output_dir(tmp_path) -> pathlib.Path:
    build_store(tmp_path / TASK)
    return tmp_path


def run(output_dir: pathlib.Path, last: int | None = None, capsys=None) -> tuple[int, dict]:
    status = monitor.main(["--task", TASK, "--output-dir", str(output_dir)] + (["--last", str(last)] if last else []))
    result_file = monitoring.result_path(output_dir / TASK)
    return status, json.loads(result_file.read_text()) if result_file.exists() else {}


def findings(result: dict, kind: str) -> list[dict]:
    return [f for f in result["findings"] if f["kind"] == kind and f["feature"] == FEATURE]


def test_a_window_like_the_training_data_passes(output_dir, capsys):
    write_requests(output_dir / TASK, windows(1, 300), start_ms=1_700_000_000_000)
    status, result = run(output_dir)
    printed = capsys.readouterr().out
    assert status == monitor.EXIT_CLEAN, printed
    assert result["anomalies"] == [] and "No anomaly." in printed
    [skew] = findings(result, "skew")
    assert 0 <= skew["value"] < THRESHOLD / 2
    assert f"{FEATURE}: skew: Jensen-Shannon divergence" in printed


def test_a_window_shifted_by_one_std_fails_naming_the_feature(output_dir, capsys):
    write_requests(output_dir / TASK, windows(1, 300) + STD, start_ms=1_700_000_000_000)
    status, result = run(output_dir)
    printed = capsys.readouterr().out
    assert status == monitor.EXIT_ANOMALIES
    [line] = result["anomalies"]
    assert line.startswith(f"{FEATURE}: skew: Jensen-Shannon divergence ") and f"> {THRESHOLD:.3g} against training" in line
    assert line in printed and "ANOMALIES (1)" in printed
    [skew] = findings(result, "skew")
    assert skew["value"] > THRESHOLD


def test_drift_against_the_previous_window_is_reported(output_dir, capsys):
    # Both windows sit between training and the shift, so skew stays quiet and drift speaks.
    task_dir = output_dir / TASK
    write_requests(task_dir, windows(1, 300) - STD / 3, start_ms=1_700_000_000_000)
    first_status, first = run(output_dir)
    assert first_status == monitor.EXIT_CLEAN and findings(first, "drift") == [] and first["drift_against"] is None
    write_requests(task_dir, windows(2, 300) + STD / 3, start_ms=1_700_000_100_000, sequence=1)
    status, second = run(output_dir)
    printed = capsys.readouterr().out
    assert status == monitor.EXIT_ANOMALIES, printed
    [drift] = findings(second, "drift")
    assert drift["anomaly"] and drift["value"] > DRIFT_THRESHOLD
    assert not any(f["anomaly"] for f in findings(second, "skew"))  # each window alone is near training
    assert second["drift_against"] == str(pathlib.Path(first["run_dir"]) / monitoring.WINDOW_STATISTICS)
    assert any(line.startswith(f"{FEATURE}: drift: Jensen-Shannon divergence") and "against the previous window" in line
               for line in second["anomalies"])  # fmt: skip


def test_last_and_the_cursor_choose_the_window(output_dir, capsys):
    task_dir = output_dir / TASK
    first_times = write_requests(task_dir, windows(1, 40), start_ms=1_700_000_000_000)
    assert run(output_dir)[1]["requests"] == 40  # first run: everything logged
    new_times = write_requests(task_dir, windows(2, 25), start_ms=1_700_000_100_000, sequence=1)
    _, since = run(output_dir)  # by default: only what came since
    assert since["requests"] == 25
    assert since["window"]["first"] == monitor.when(new_times[0]) and since["window"]["last"] == monitor.when(new_times[-1])
    _, last = run(output_dir, last=30)  # the last 30, across both files
    assert last["requests"] == 30 and last["window"]["first"] == monitor.when(first_times[-5])
    assert monitor.main(["--task", TASK, "--output-dir", str(output_dir)]) == monitor.EXIT_USAGE  # nothing new
    assert "no request logged since the last monitor run" in capsys.readouterr().err


def test_the_result_is_recorded_in_ml_metadata(output_dir):
    write_requests(output_dir / TASK, windows(1, 120) + STD, start_ms=1_700_000_000_000)
    _, result = run(output_dir)
    store = mlmd.open_store(str(output_dir / TASK / "metadata.sqlite"))
    [execution] = store.get_executions_by_type(monitor.EXECUTION_TYPE)
    assert execution.id == result["execution_id"]
    assert mlmd.custom(execution, "requests") == 120 and mlmd.custom(execution, "anomalies") == len(result["anomalies"]) == 1
    events = store.get_events_by_execution_ids([execution.id])
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    types = mlmd.artifact_type_names(store)
    outputs = {mlmd.event_key(e): artifacts[e.artifact_id] for e in events if e.type == pb.Event.OUTPUT}
    inputs = {mlmd.event_key(e): types[artifacts[e.artifact_id].type_id] for e in events if e.type == pb.Event.INPUT}
    assert inputs == {"model": "PushedModel", "schema": "Schema", "training_statistics": "ExampleStatistics"}
    assert {k: types[a.type_id] for k, a in outputs.items()} == {"statistics": "ExampleStatistics", "anomalies": "ExampleAnomalies"}
    import tensorflow_data_validation as tfdv

    window = tfdv.load_stats_binary(str(pathlib.Path(outputs["statistics"].uri) / f"Split-{monitoring.SPLIT}" / "FeatureStats.pb"))
    assert window.datasets[0].num_examples == 120
    assert [".".join(f.path.step) for f in window.datasets[0].features] == [FEATURE]  # the `__` features are gone


def test_nothing_logged_or_nothing_deployed_is_a_usage_error(tmp_path, capsys):
    build_store(tmp_path / TASK, pushed=False)
    assert monitor.main(["--task", TASK, "--output-dir", str(tmp_path)]) == monitor.EXIT_USAGE
    assert "no requests logged under" in capsys.readouterr().err
    write_requests(tmp_path / TASK, windows(1, 10), start_ms=1_700_000_000_000)
    assert monitor.main(["--task", TASK, "--output-dir", str(tmp_path)]) == monitor.EXIT_USAGE
    assert "no model is deployed" in capsys.readouterr().err


def test_the_report_section_shows_the_findings_and_the_distributions(output_dir):
    write_requests(output_dir / TASK, windows(1, 100) + STD, start_ms=1_700_000_000_000)
    run(output_dir)
    section = monitoring.monitor_section(output_dir / TASK)
    assert "1 anomaly" in section and "ANOMALY" in section and FEATURE in section
    assert section.count("<img") == 1  # one numeric raw input, one histogram


def test_a_schema_file_brings_comparators_the_deployed_run_did_not_have(tmp_path, capsys):
    without_skew = "\n".join(line for line in SCHEMA.splitlines() if "skew_comparator" not in line)
    build_store(tmp_path / TASK, schema=without_skew)
    write_requests(tmp_path / TASK, windows(1, 200) + STD, start_ms=1_700_000_000_000)
    assert monitor.main(["--task", TASK, "--output-dir", str(tmp_path), "--last", "200"]) == monitor.EXIT_CLEAN
    assert "declares no skew_comparator" in capsys.readouterr().out
    newer = tmp_path / "schema.pbtxt"
    newer.write_text(SCHEMA)
    status = monitor.main(["--task", TASK, "--output-dir", str(tmp_path), "--last", "200", "--schema", str(newer)])
    assert status == monitor.EXIT_ANOMALIES
    assert f"{FEATURE}: skew: Jensen-Shannon divergence" in capsys.readouterr().out


def test_a_simulated_day_is_logged_as_make_serve_logs_it_and_watched_with_the_day_before(output_dir):
    from pipeline import simulate

    task_dir = output_dir / TASK

    def answered(rows: np.ndarray) -> tuple[dict, dict]:  # a day's requests and the model's answers
        sent = [tf.train.Example(features=tf.train.Features(feature={FEATURE: tf.train.Feature(
            float_list=tf.train.FloatList(value=row))})).SerializeToString() for row in rows]  # fmt: skip
        return {"examples": tf.constant(sent)}, {"forecast": rows[:, -2:]}

    assert simulate.log_requests(task_dir, {}, {}, 7) == 0  # nothing served: nothing logged
    assert simulate.watch(TASK, str(output_dir), 0) is None
    first = simulate.log_requests(task_dir, *answered(windows(1, 150)), 7)
    quiet = simulate.watch(TASK, str(output_dir), first)
    assert first == 150 and quiet["requests"] == 150 and not quiet["alarm"] and quiet["lines"] == []
    [skew] = [f for f in quiet["findings"] if f["kind"] == "skew"]
    assert skew["feature"] == FEATURE and skew["value"] < THRESHOLD
    assert "quiet (level skew" in monitoring.day_summary(quiet)
    second = simulate.log_requests(task_dir, *answered(windows(2, 150) + 2 * STD), 7)
    alarm = simulate.watch(TASK, str(output_dir), first + second)  # both days, as MONITOR_DAYS = 2 reads them
    assert alarm["requests"] == 300 and alarm["alarm"]
    assert any(line.startswith(f"{FEATURE}: skew: Jensen-Shannon divergence") for line in alarm["lines"])
    assert monitoring.day_summary(alarm).startswith("monitor: ALARM level skew")
    logged = request_log.read(request_log.folder(task_dir))
    assert len(logged) == 300 and {request_log.key_of(e) is not None for e in logged} == {True}
    assert {e.features.feature["__version__"].int64_list.value[0] for e in logged} == {7}
