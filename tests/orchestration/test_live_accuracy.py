"""Live accuracy with delayed truth (`make monitor TRUTH=...`: pipeline/monitor.py, serving/live_accuracy.py,
tasks/timeseries/live.py), on a small real store (tests/orchestration/test_monitor.py's), a tiny real
SavedModel with the project's three signatures, logged requests keyed by their window's last time,
and a truth CSV that covers only some of them."""
from __future__ import annotations

import json
import pathlib
import uuid

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components.export import EVALUATION_SIGNATURE, EXAMPLES_INPUT, RAW_SIGNATURE, SERVING_SIGNATURE
from pipeline import config as pipeline_config
from pipeline import monitor, run_config
from reporting import monitoring
from serving import live_accuracy, request_log
from tests.orchestration.test_monitor import FEATURE, LOOKBACK, build_store

TASK = "timeseries"
HORIZON, SEASON = 2, 4
STEP = pd.Timedelta(minutes=5)
START = pd.Timestamp("2024-03-01 22:00:00")
ROWS, TRUTH_ROWS = 60, 40  # the series, and the part of it the truth file holds so far
ENDS = list(range(LOOKBACK - 1, 50, 3))  # each request's window ends at this row (its key's time)
OFFSET = np.array([1.0, 2.0])  # the logged forecast: the last reading plus these
DAY = 86_400_000


def series() -> np.ndarray:
    """(ROWS,) readings: a trend and a wave, so that no two forecasters tie."""
    steps = np.arange(ROWS)
    return (100 + 0.7 * steps + 12 * np.sin(steps / 2.5)).astype(np.float32)


def save_model(export_dir: pathlib.Path) -> None:
    """`serving_default` and `evaluation` on serialized tf.Examples, `predict_raw` on the window;
    `evaluation` adds the linear challenger, here the window's mean at every step."""
    spec = {FEATURE: tf.io.FixedLenFeature([LOOKBACK], tf.float32)}

    def forecast(window):  # (B, LOOKBACK) -> (B, HORIZON)
        return window[:, -1:] + tf.constant(OFFSET, tf.float32)

    def linear(window):
        return tf.repeat(tf.reduce_mean(window, axis=1, keepdims=True), HORIZON, axis=1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        return {f"forecast_{FEATURE}": forecast(tf.io.parse_example(examples, spec)[FEATURE])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def evaluation(examples):
        window = tf.io.parse_example(examples, spec)[FEATURE]
        return {f"forecast_{FEATURE}": forecast(window), f"linear_{FEATURE}": linear(window)}

    @tf.function(input_signature=[tf.TensorSpec([None, LOOKBACK], tf.float32, name=FEATURE)])
    def serve_raw(window):
        return {f"forecast_{FEATURE}": forecast(window)}

    tf.saved_model.save(tf.Module(), str(export_dir),
                        signatures={SERVING_SIGNATURE: serve, EVALUATION_SIGNATURE: evaluation, RAW_SIGNATURE: serve_raw})  # fmt: skip


def request(window: np.ndarray, key: str | None, millis: int) -> tf.train.Example:
    """One logged instance in the request-log contract's format."""
    example = tf.train.Example()
    features = example.features.feature
    features[FEATURE].float_list.value.extend(window)
    features[request_log.KEY_FEATURE].bytes_list.value.append((key or uuid.uuid4().hex).encode())
    features[request_log.TIME_FEATURE].int64_list.value.append(millis)
    features[request_log.VERSION_FEATURE].int64_list.value.append(7)
    features[request_log.OUTPUT_PREFIX + f"forecast_{FEATURE}"].float_list.value.extend(window[-1] + OFFSET)
    return example


@pytest.fixture()
def deployment(tmp_path) -> pathlib.Path:
    """The store, the served model, the config it ran with, the requests, and a truth CSV of TRUTH_ROWS rows."""
    task_dir = tmp_path / TASK
    build_store(task_dir)  # its Pusher pushed task_dir/serving/7
    save_model(task_dir / "serving" / "7")
    overrides = [f"series.input_columns=[{FEATURE}]", f"series.target_columns=[{FEATURE}]", f"series.lookback={LOOKBACK}",
                 f"series.horizon={HORIZON}", f"series.season={SEASON}"]  # fmt: skip
    run_config.record(pipeline_config.load_config(TASK, None, overrides, output_dir=str(tmp_path)))
    values, times = series(), [START + STEP * i for i in range(ROWS)]
    first_ms = 1_700_000_000_000
    logged = [request(values[end - LOOKBACK + 1 : end + 1], str(times[end]), first_ms + DAY * (i >= len(ENDS) // 2) + i)
              for i, end in enumerate(ENDS)]  # fmt: skip  # the first half served on one day, the rest on the next
    logged += [request(values[:LOOKBACK], None, first_ms + 2 * DAY), request(values[:LOOKBACK], "not a time", first_ms + 2 * DAY + 1)]
    folder = pathlib.Path(request_log.folder(task_dir))
    folder.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(folder / "requests-20231114T221320-00000.tfrecord")) as writer:
        for example in logged:
            writer.write(example.SerializeToString())
    pd.DataFrame({"time": times[:TRUTH_ROWS], FEATURE: values[:TRUTH_ROWS]}).to_csv(tmp_path / "truth.csv", index=False)
    return tmp_path


def expected_losses() -> dict[str, list[float]]:
    """Each forecaster's MAE per joined request, by hand from the series."""
    values = series().astype(np.float64)
    losses: dict[str, list[float]] = {"deployed": [], "persistence": [], "seasonal_naive": [], "linear": []}
    for end in ENDS:
        if end + HORIZON >= TRUTH_ROWS:
            continue  # its readings have not arrived
        actual, window = values[end + 1 : end + 1 + HORIZON], values[end - LOOKBACK + 1 : end + 1]
        forecasts = {"deployed": window[-1] + OFFSET, "persistence": np.full(HORIZON, window[-1]),
                     "seasonal_naive": window[LOOKBACK - SEASON : LOOKBACK - SEASON + HORIZON],  # one season back
                     "linear": np.full(HORIZON, window.mean())}  # fmt: skip
        for name, forecast in forecasts.items():
            losses[name].append(float(np.abs(forecast - actual).mean()))
    return losses


def run(output_dir: pathlib.Path, *extra: str) -> tuple[int, dict]:
    status = monitor.main(["--task", TASK, "--output-dir", str(output_dir), "--truth", str(output_dir / "truth.csv"), *extra])
    result = json.loads(monitoring.result_path(output_dir / TASK).read_text())
    return status, json.loads(pathlib.Path(result["live"]).read_text())


def test_the_truth_is_joined_by_key_and_counted(deployment, capsys):
    status, live = run(deployment)
    joined = sum(end + HORIZON < TRUTH_ROWS for end in ENDS)
    assert status in (monitor.EXIT_CLEAN, monitor.EXIT_ANOMALIES)  # skew and drift are test_monitor.py's
    assert 0 < joined < len(ENDS)  # the truth covers some requests, not all
    assert (live["requests"], live["joined"], live["unknown"], live["no_key"]) == (len(ENDS) + 2, joined, len(ENDS) - joined, 2)
    printed = capsys.readouterr().out
    assert f"{joined} joined, {len(ENDS) - joined} truth not known yet, 2 without a usable key" in printed


def test_each_model_s_mae_is_the_hand_computed_one(deployment):
    _, live = run(deployment)
    expected = expected_losses()
    assert set(live["models"]) == set(expected)  # linear came from the evaluation signature
    for name, losses in expected.items():
        assert live["models"][name]["mean"] == pytest.approx(np.mean(losses), rel=1e-5), name
        assert live["models"][name]["requests"] == len(losses)
    deployed = np.mean(expected["deployed"])
    for name in ("persistence", "seasonal_naive", "linear"):
        assert live["models"][name]["diff"] == pytest.approx(np.mean(expected[name]) - deployed, rel=1e-5, abs=1e-6)
        assert live["models"][name]["ci_low"] <= live["models"][name]["diff"] <= live["models"][name]["ci_high"]
    assert live["notes"] == []  # the keys are the windows' last times: no warning


def test_the_daily_means_follow_the_requests_logged_time(deployment):
    _, live = run(deployment)
    expected = expected_losses()
    joined = len(expected["deployed"])
    first_day = min(len(ENDS) // 2, joined)  # the first half of the requests was served on the first day
    assert [d["requests"] for d in live["daily"]] == [first_day, joined - first_day]
    assert live["daily"][0]["day"] < live["daily"][1]["day"]
    for name, losses in expected.items():
        assert live["daily"][0]["mean"][name] == pytest.approx(np.mean(losses[:first_day]), rel=1e-5)
        assert live["daily"][1]["mean"][name] == pytest.approx(np.mean(losses[first_day:]), rel=1e-5)


def test_keys_that_are_not_the_window_s_last_time_are_warned_about(deployment):
    frame = pd.read_csv(deployment / "truth.csv")
    frame["time"] = pd.to_datetime(frame["time"]) - STEP  # every key now names the reading after its window's last
    frame.to_csv(deployment / "truth.csv", index=False)
    _, live = run(deployment)
    assert live["joined"] > 0
    [note] = live["notes"]
    assert f"{live['joined']} of {live['joined']} joined requests' last window reading differs" in note


def test_a_gap_in_the_truth_leaves_its_requests_unknown_and_says_so(deployment):
    frame = pd.read_csv(deployment / "truth.csv")
    gap = ENDS[1] + 1  # the first reading the second request forecasts
    frame.drop(index=gap).to_csv(deployment / "truth.csv", index=False)
    _, live = run(deployment)
    hit = sum(end < gap <= end + HORIZON for end in ENDS)  # requests whose horizon needs that reading
    joined = sum(end + HORIZON < TRUTH_ROWS for end in ENDS)
    assert hit >= 1 and (live["joined"], live["unknown"]) == (joined - hit, len(ENDS) - joined + hit)
    [note] = live["notes"]
    assert note.startswith(f"{hit} of the requests whose truth is not known yet") and "gap" in note


def test_without_an_evaluation_signature_the_linear_challenger_is_left_out(deployment):
    export_dir = deployment / TASK / "serving" / "7"
    loaded = tf.saved_model.load(str(export_dir))
    tf.saved_model.save(loaded, str(export_dir), signatures={SERVING_SIGNATURE: loaded.signatures[SERVING_SIGNATURE]})
    _, live = run(deployment)
    assert "linear" not in live["models"] and set(live["models"]) == {"deployed", "persistence", "seasonal_naive"}
    assert any(note.startswith("linear: left out") and EVALUATION_SIGNATURE in note for note in live["notes"])


def test_a_missing_truth_file_is_a_usage_error(deployment, capsys):
    status = monitor.main(["--task", TASK, "--output-dir", str(deployment), "--truth", str(deployment / "nowhere.csv")])
    assert status == monitor.EXIT_USAGE and "no such file" in capsys.readouterr().err
    assert not monitoring.result_path(deployment / TASK).exists()  # nothing was recorded


def test_the_report_section_shows_the_live_accuracy(deployment):
    run(deployment)
    section = monitoring.monitor_section(deployment / TASK)
    assert "Live accuracy" in section and "seasonal_naive" in section and "daily mean MAE" not in section  # a PNG, not text
    assert section.count("<img") == 2  # the input's histogram, and the daily losses


def test_a_joined_result_with_a_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="losses of sizes"):
        live_accuracy.Joined([live_accuracy.JOINED] * 3, {live_accuracy.DEPLOYED: np.zeros(2)})
    with pytest.raises(ValueError, match="finite on every joined request"):
        live_accuracy.Joined([live_accuracy.JOINED, live_accuracy.UNKNOWN], {live_accuracy.DEPLOYED: [np.nan, np.nan]})
