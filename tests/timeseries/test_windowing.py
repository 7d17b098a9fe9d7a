"""Time splits and windows: exact counts, no leakage across boundaries, order and gap checks."""
from __future__ import annotations

import numpy as np
import pytest

from tasks.timeseries import features, windowing
from tests.timeseries.fixtures import series_frame, small_series_config


def _plan(tmp_path, frame, series):
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    return windowing.plan_windows(windowing.read_series(str(path), series.time_column), series)


def test_split_bounds_are_contiguous_and_in_time_order():
    bounds = windowing.split_bounds(100, [0.7, 0.15, 0.15])
    assert bounds == {"train": (0, 70), "eval": (70, 85), "test": (85, 100)}


@pytest.mark.parametrize("stride", [1, 3])
def test_exact_window_counts_per_split(tmp_path, stride):
    series = small_series_config(stride=stride)
    plan, report = _plan(tmp_path, series_frame(200), series)
    for split, (lo, hi) in windowing.split_bounds(200, series.split_fractions).items():
        rows = hi - lo
        expected = (rows - series.lookback - series.horizon) // stride + 1
        assert report.split_windows[split] == expected
        assert len(plan[split][1]) == expected


def test_no_window_crosses_a_split_boundary(tmp_path):
    series = small_series_config()
    frame = series_frame(200)
    plan, report = _plan(tmp_path, frame, series)
    span = series.lookback + series.horizon
    seen_times = {}
    for split, (part, starts) in plan.items():
        times = set()
        for start in starts:
            times.update(part["time"].iloc[start : start + span].astype(str))
        assert starts.max() + span <= len(part)  # inside its own split
        seen_times[split] = times
    assert not seen_times["train"] & seen_times["eval"]
    assert not seen_times["eval"] & seen_times["test"]
    assert report.split_ranges["train"][1] < report.split_ranges["eval"][0] < report.split_ranges["test"][0]


def test_windows_hold_past_inputs_and_future_targets(tmp_path):
    series = small_series_config()
    frame = series_frame(200)
    plan, _ = _plan(tmp_path, frame, series)
    part, starts = plan["train"]
    first = next(windowing.iter_windows(part, starts, ["temperature"], ["temperature"], 8, 4))
    values = frame["temperature"].to_numpy(np.float32)
    np.testing.assert_allclose(first[features.window_key("temperature")], values[0:8])
    np.testing.assert_allclose(first[features.target_key("temperature")], values[8:12])


def test_unsorted_rows_are_an_error_not_reordered(tmp_path):
    frame = series_frame(50)
    frame.iloc[[10, 11]] = frame.iloc[[11, 10]].to_numpy()
    path = tmp_path / "unsorted.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(windowing.SeriesError, match="not sorted by 'time'.*data row 12"):
        windowing.read_series(str(path), "time")


def test_duplicate_timestamps_are_reported(tmp_path):
    frame = series_frame(50)
    frame.loc[20, "time"] = frame.loc[19, "time"]
    path = tmp_path / "dup.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(windowing.SeriesError, match="1 duplicate timestamp"):
        windowing.read_series(str(path), "time")


def test_missing_time_column_names_the_columns(tmp_path):
    path = tmp_path / "no_time.csv"
    series_frame(20).rename(columns={"time": "when"}).to_csv(path, index=False)
    with pytest.raises(windowing.SeriesError, match="time column 'time' not found.*'when'"):
        windowing.read_series(str(path), "time")


def test_gaps_are_reported_and_no_window_spans_one(tmp_path):
    series = small_series_config(split_fractions=[0.8, 0.1, 0.1])
    frame = series_frame(200).drop(index=range(50, 53)).reset_index(drop=True)  # 3 missing steps
    plan, report = _plan(tmp_path, frame, series)
    assert report.gaps == 1 and report.missing_timestamps == 3
    part, starts = plan["train"]
    times = part["time"].astype("datetime64[ns]")
    span = series.lookback + series.horizon
    for start in starts:
        steps = np.diff(times.iloc[start : start + span].to_numpy()).astype("timedelta64[m]").astype(int)
        assert (steps == 30).all()
    # the gap lies between rows 49 and 50: the span - 1 windows starting at 39..49 would cover it
    train_rows = windowing.split_bounds(len(frame), series.split_fractions)["train"][1]
    assert report.split_windows["train"] == (train_rows - span + 1) - (span - 1)


def test_too_short_split_says_what_to_change(tmp_path):
    with pytest.raises(windowing.SeriesError, match="too few for one window"):
        _plan(tmp_path, series_frame(30), small_series_config())


def test_split_by_dates_cuts_at_the_first_row_on_or_after_each_date(tmp_path):
    frame = series_frame(200)  # 30-minute steps from 2020-01-01 00:00
    series = small_series_config(split_dates=["2020-01-03 00:00", "2020-01-03T12:00:00"])
    plan, report = _plan(tmp_path, frame, series)
    assert report.split_rows == {"train": 96, "eval": 24, "test": 80}
    assert report.split_ranges["eval"][0].startswith("2020-01-03 00:00")
    assert report.split_ranges["test"][0].startswith("2020-01-03 12:00")


def test_split_dates_must_be_in_order():
    with pytest.raises(ValueError, match=r"split_dates .* must be \[eval_start, test_start\]"):
        small_series_config(split_dates=["2020-02-01", "2020-01-01"]).validate()


def test_split_context_lets_lookbacks_reach_back_but_never_targets(tmp_path):
    """The long-horizon protocol: every eval/test window whose targets lie in the split,
    its lookback possibly in the rows before; a third date ends the test split."""
    frame = series_frame(200)
    series = small_series_config(
        split_dates=["2020-01-03 00:00", "2020-01-03T12:00:00", "2020-01-04 12:00"], split_context=True
    )
    plan, report = _plan(tmp_path, frame, series)
    assert report.split_rows == {"train": 96, "eval": 24, "test": 48}  # rows from 2020-01-04 12:00 unused
    for split, (lo, hi) in {"eval": (96, 120), "test": (120, 168)}.items():
        part, starts = plan[split]
        assert report.split_windows[split] == hi - lo - series.horizon + 1  # stride 1: every target window
        first_target = part["time"].iloc[starts[0] + series.lookback]
        assert str(first_target) == str(frame["time"].iloc[lo]).replace("T", " ")  # targets start at the split
        assert starts.max() + series.lookback + series.horizon == len(part)  # and end inside it


def test_split_column_gives_the_bounds(tmp_path):
    frame = series_frame(200)
    frame["part"] = ["train"] * 120 + ["eval"] * 40 + [" Test"] * 40
    plan, report = _plan(tmp_path, frame, small_series_config(split_column="part"))
    assert report.split_rows == {"train": 120, "eval": 40, "test": 40}


@pytest.mark.parametrize(
    "parts, message",
    [
        (["train"] * 120 + ["eval"] * 40 + ["holdout"] * 40, r"data row 161 holds 'holdout'"),
        (["train"] * 100 + ["eval"] * 40 + ["train"] * 20 + ["test"] * 40, r"data row 141 is 'train' after 'eval'"),
        (["train"] * 160 + ["test"] * 40, r"has no \['eval'\] rows"),
    ],
    ids=["unknown-value", "out-of-time-order", "missing-split"],
)
def test_bad_split_column_names_the_row(tmp_path, parts, message):
    frame = series_frame(200)
    frame["part"] = parts
    with pytest.raises(ValueError, match=message):
        _plan(tmp_path, frame, small_series_config(split_column="part"))
