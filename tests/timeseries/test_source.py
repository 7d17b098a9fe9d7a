"""The default series as a user would have it: the monitor's readings, one per 5-minute step."""
from __future__ import annotations

import pandas as pd
import pytest

from tasks.timeseries import source, windowing


def test_close_readings_are_averaged_into_the_first_and_others_kept():
    frame = pd.DataFrame({
        "time": ["2010-01-01 00:00", "2010-01-01 00:04", "2010-01-01 00:05", "2010-01-01 00:05",
                 "2010-01-01 00:09", "2010-01-01 00:14"],
        "glucose": [100.0, 110.0, 120.0, 130.0, 140.0, 150.0],
    })  # fmt: skip
    merged = source.merge_close_readings(frame, pd.Timedelta("2.5min"))
    assert merged["time"].tolist() == ["2010-01-01 00:00", "2010-01-01 00:04", "2010-01-01 00:09", "2010-01-01 00:14"]
    assert merged["glucose"].tolist() == pytest.approx([100.0, 120.0, 140.0, 150.0])  # 110, 120, 130 averaged


def test_the_default_csv_is_glucose_in_regular_steps_and_the_same_every_time(tmp_path, capsys):
    path = source.prepare_default_csv(str(tmp_path))
    raw = pd.read_csv(source.source_path())
    frame = windowing.read_series(path, "time")  # sorted, no duplicate timestamps, or this raises
    assert list(frame.columns) == ["time", "glucose"]
    steps = frame["time"].diff().dropna()
    assert (steps >= source.STEP / 2).all()
    assert windowing.infer_frequency(frame["time"], None) == source.STEP
    merged = len(raw) - len(frame)
    assert 0 < merged < 0.01 * len(raw)  # a clean-up, not a resampling
    assert f"averaged {merged} reading(s)" in capsys.readouterr().out
    assert frame["glucose"].min() >= 40 and frame["glucose"].max() <= 400  # the monitor's range (schema)
    assert frame["glucose"].mean() == pytest.approx(raw["glucose"].mean(), rel=0.01)
    again = source.prepare_default_csv(str(tmp_path / "again"))
    assert open(path, "rb").read() == open(again, "rb").read()
