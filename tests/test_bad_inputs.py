"""Every case of the bad-input corpus (tests/e2e/bad_inputs.py), in process: the pipeline's own
code up to the AnomalyGate stops it with the case's words, and passes the clean file it was
made from. The end-to-end tests run one case per stop point through the pipeline."""
from __future__ import annotations

import pytest

from pipeline.config import load_config
from tests.e2e import bad_inputs
from tests.e2e.tiny import write_tiny_csv

SERIES_ROWS = 3000  # ten days of readings: every split holds windows, and a message reads as on the whole series


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """(path, frame) of the packaged series' first SERIES_ROWS rows."""
    root = tmp_path_factory.mktemp("series")
    _, frame = write_tiny_csv(root)
    frame = frame.iloc[:SERIES_ROWS]
    frame.to_csv(root / "series.csv", index=False)
    return str(root / "series.csv"), frame


@pytest.mark.slow
def test_the_clean_series_passes(series, tmp_path):
    csv, _ = series
    assert bad_inputs.stop_in_process(load_config("timeseries"), csv, tmp_path) == ""


@pytest.mark.parametrize("make, expected", [(m, e) for _, m, e in bad_inputs.TIMESERIES],
                         ids=[name for name, _, _ in bad_inputs.TIMESERIES])  # fmt: skip
def test_a_bad_series_stops_before_transform_saying_what_and_where(series, tmp_path, make, expected):
    _, frame = series
    csv = bad_inputs.write_timeseries_case(make, frame, tmp_path / "bad.csv")
    message = bad_inputs.stop_in_process(load_config("timeseries"), csv, tmp_path)
    bad_inputs.assert_says(message, expected)


def test_the_clean_texts_pass(tmp_path):
    csv = tmp_path / "good.csv"
    csv.write_bytes(bad_inputs._csv(bad_inputs.GOOD))
    assert bad_inputs.stop_in_process(load_config("text"), str(csv), tmp_path) == ""


@pytest.mark.parametrize("content, overrides, expected", [(c, o, e) for _, c, o, e in bad_inputs.TEXT],
                         ids=[name for name, *_ in bad_inputs.TEXT])  # fmt: skip
def test_bad_texts_stop_before_transform_saying_what_and_where(tmp_path, content, overrides, expected):
    csv = tmp_path / "bad.csv"
    csv.write_bytes(content)
    message = bad_inputs.stop_in_process(load_config("text", overrides=overrides), str(csv), tmp_path)
    bad_inputs.assert_says(message, expected)
