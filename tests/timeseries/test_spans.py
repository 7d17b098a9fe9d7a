"""Spans of one series (tasks/timeseries/spans.py, simulation.py): continuity, split by span, days."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components import example_gen
from data.spans import SpanError
from pipeline.config import load_config
from tasks.timeseries import features, simulation

WRITER = "tasks.timeseries.example_gen.write_examples"


def _series(days: int, start: str = "2021-03-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=288 * days, freq="5min")
    return pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M:%S"), "glucose": 120 + 30 * np.sin(np.arange(len(times)) / 40)})


def _spans(tmp_path, frame: pd.DataFrame, cuts: list[tuple[int, int]]) -> str:
    for number, (lo, hi) in enumerate(cuts, start=1):
        frame.iloc[lo:hi].to_csv(tmp_path / f"g-{number}.csv", index=False)
    return str(tmp_path / "g-{SPAN}.csv")


def _config(pattern: str, *overrides: str):
    return load_config("timeseries", data=pattern, overrides=list(overrides))


def test_spans_join_into_one_series_whose_windows_cross_their_boundaries(tmp_path):
    frame = _series(6)
    days = [(i * 288, (i + 1) * 288) for i in range(6)]
    pattern = _spans(tmp_path, frame, days)
    whole = tmp_path / "whole.csv"
    frame.to_csv(whole, index=False)
    config = _config(pattern)
    by_spans = example_gen.write(WRITER, config, pattern, str(tmp_path / "spans-out"))
    by_file = example_gen.write(WRITER, _config(str(whole)), str(whole), str(tmp_path / "file-out"))
    assert by_spans.counts == by_file.counts  # the same windows as the file the spans were cut from


@pytest.mark.parametrize(
    "cuts, message",
    [
        ([(0, 288), (280, 576)], r"span 2 \(g-2.csv\) starts at 2021-03-01 23:20:00, at or before the end of span 1"),
        ([(0, 288), (300, 576)], r"span 1 \(g-1.csv\) ends at .* and span 2 \(g-2.csv\) starts at .*: a gap .*\(12 missing"),
        ([(288, 576), (0, 288)], r"span 2 \(g-2.csv\) .* comes before span 1 \(g-1.csv\) .*: spans out of order"),
    ],
)
def test_a_bad_boundary_is_an_error_naming_both_spans(tmp_path, cuts, message):
    pattern = _spans(tmp_path, _series(2), cuts)
    with pytest.raises(SpanError, match=message):
        example_gen.write(WRITER, _config(pattern), pattern, str(tmp_path / "out"))


def test_split_by_spans_trains_on_the_older_evaluates_on_the_next_and_tests_on_the_newest(tmp_path):
    frame = _series(8)
    pattern = _spans(tmp_path, frame, [(i * 288, (i + 1) * 288) for i in range(8)])
    config = _config(pattern, "spans.split=spans", "spans.eval_spans=2")
    _, split_config, chosen = example_gen.join_spans(WRITER, config, pattern, str(tmp_path))
    assert split_config.series.split_dates == ["2021-03-06 00:00:00", "2021-03-08 00:00:00"]
    assert len(chosen) == 8
    with pytest.raises(SpanError, match="needs at least 4 spans, and 3 were read"):
        example_gen.join_spans(WRITER, _config(pattern, "spans.split=spans", "spans.eval_spans=2", "spans.window=3"),
                               pattern, str(tmp_path))  # fmt: skip


def test_simulated_days_start_where_readings_are_continuous(tmp_path):
    frame = _series(5)
    frame = frame.drop(index=range(288 * 3 - 2, 288 * 3 + 4)).reset_index(drop=True)  # a gap across a midnight
    config = _config(None)
    times = pd.to_datetime(frame["time"])
    parts = simulation.cut_days(config, frame.assign(time=times), 3)
    assert len(parts) == 4 and sum(len(p) for p in parts) < len(frame)  # the unfinished last day is kept back
    for before, after in zip(parts[:-1], parts[1:], strict=True):
        assert after["time"].iloc[0] - before["time"].iloc[-1] == pd.Timedelta("5min")  # no gap at a boundary


def _persistence_model(path: str, lookback: int, horizon: int) -> str:
    """A SavedModel with the pushed models' serving signature that forecasts the window's last value."""
    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        window = tf.io.parse_example(examples, {"glucose": tf.io.FixedLenFeature([lookback], tf.float32)})["glucose"]
        return {features.forecast_output_key("glucose"): tf.tile(window[:, -1:], [1, horizon])}

    tf.saved_model.save(module, path, signatures={"serving_default": serve})
    return path


def test_a_day_is_answered_hour_by_hour_and_scored_on_its_values(tmp_path):
    config = _config(None)
    lookback, horizon = config.series.lookback, config.series.horizon
    frame = _series(2).assign(time=lambda f: pd.to_datetime(f["time"]))
    before, day = frame.iloc[:288], frame.iloc[288:].reset_index(drop=True)
    model = _persistence_model(str(tmp_path / "model"), lookback, horizon)
    request, outputs, errors = simulation.answer(config, model, before, day)
    values = frame["glucose"].to_numpy()
    starts = range(288, 576 - horizon + 1, horizon)  # one forecast an hour, all inside the day
    expected = np.mean([np.abs(values[t - 1] - values[t : t + horizon]) for t in starts])
    assert errors["served_mae"] == pytest.approx(expected, rel=1e-5)
    assert errors["persistence_mae"] == pytest.approx(expected, rel=1e-5)
    sent = [tf.train.Example.FromString(r) for r in request["examples"].numpy()]  # what a client sends
    assert len(sent) == len(starts) == len(outputs[features.forecast_output_key("glucose")])
    assert set(sent[0].features.feature) == {"glucose"}  # the window only: no target leaves with a request
    np.testing.assert_allclose(sent[-1].features.feature["glucose"].float_list.value, values[starts[-1] - lookback : starts[-1]], rtol=1e-6)


def test_the_drift_shifts_the_day_by_one_standard_deviation_of_the_history():
    config = _config(None)
    frame = _series(2)
    history, day = frame.iloc[:288], frame.iloc[288:].reset_index(drop=True)
    shifted = simulation.drifted(config, day, history)
    offset = shifted["glucose"] - day["glucose"]
    inside = (shifted["glucose"] > simulation.LOW) & (shifted["glucose"] < simulation.HIGH)  # not clipped
    assert inside.any()
    np.testing.assert_allclose(offset[inside], history["glucose"].std(), rtol=1e-6)
    assert shifted["glucose"].between(simulation.LOW, simulation.HIGH).all()
