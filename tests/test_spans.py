"""Span patterns (data/spans.py): TFX's matching, the window a run reads, joining spans."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import spans
from data.config import SpansConfig


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


def test_each_span_is_read_at_its_latest_version(tmp_path):
    for span, version in [(1, 1), (2, 1), (2, 3), (2, 2), (10, 1)]:
        _write(tmp_path / f"data-{span}-v{version}.csv", {"x": [span * 10 + version]})
    found = spans.find(str(tmp_path / "data-{SPAN}-v{VERSION}.csv"))
    assert [(s.number, s.version) for s in found] == [(1, 1), (2, 3), (10, 1)]  # numbers, not text order
    assert found[1].path.endswith("data-2-v3.csv")
    assert spans.path_of(str(tmp_path / "data-{SPAN}-v{VERSION}.csv"), 2, 3) == found[1].path  # how producers name a span


def test_the_window_and_until_select_spans(tmp_path):
    for span in range(1, 8):
        _write(tmp_path / f"d-{span}.csv", {"x": [span]})
    pattern = str(tmp_path / "d-{SPAN}.csv")
    assert [s.number for s in spans.select(pattern, SpansConfig())] == list(range(1, 8))
    assert [s.number for s in spans.select(pattern, SpansConfig(window=1))] == [7]  # the latest span
    assert [s.number for s in spans.select(pattern, SpansConfig(window=3))] == [5, 6, 7]
    assert [s.number for s in spans.select(pattern, SpansConfig(window=2, until=4))] == [3, 4]
    with pytest.raises(spans.SpanError, match="no span .* at or before spans.until 0"):
        spans.select(pattern, SpansConfig(until=0))


def test_date_patterns_number_spans_by_day_and_until_takes_a_date(tmp_path):
    for day in ("2024-02-27", "2024-02-28", "2024-03-01"):
        _write(tmp_path / day.replace("-", "") / "rows.csv", {"x": [1]})
    pattern = str(tmp_path / "{YYYY}{MM}{DD}" / "rows.csv")
    chosen = spans.select(pattern, SpansConfig(until="2024-02-29"))
    assert [s.number for s in chosen] == [19780, 19781]  # days since 1970-01-01, as TFX numbers them
    with pytest.raises(spans.SpanError, match="must be a date"):
        spans.select(pattern, SpansConfig(until=3))


def test_a_pattern_matching_nothing_or_misspelled_is_an_error_saying_so(tmp_path):
    with pytest.raises(spans.SpanError, match="no file or folder matches"):
        spans.select(str(tmp_path / "none-{SPAN}.csv"), SpansConfig())
    with pytest.raises(spans.SpanError, match="span pattern"):
        spans.find(str(tmp_path / "x-{VERSION}.csv"))  # a version without a span
    assert spans.is_pattern("a/b-{SPAN}.csv") and spans.is_pattern("a/{YYYY}{MM}{DD}.csv")
    assert not spans.is_pattern("a/b.csv") and not spans.is_pattern(None)


def test_joined_rows_keep_span_order_and_a_changed_header_names_both_spans(tmp_path):
    _write(tmp_path / "s-2.csv", {"text": ["b"], "label": ["y"]})
    _write(tmp_path / "s-1.csv", {"text": ["a", "NA"], "label": ["x", "x"]})
    chosen = spans.select(str(tmp_path / "s-{SPAN}.csv"), SpansConfig())
    joined = pd.read_csv(spans.join(chosen, str(tmp_path)), dtype=str, keep_default_na=False)
    assert joined["text"].tolist() == ["a", "NA", "b"]  # "NA" stays text
    _write(tmp_path / "s-3.csv", {"review": ["c"], "label": ["y"]})
    with pytest.raises(spans.SpanError, match=r"span 3 \(s-3.csv\) has columns \['review', 'label'\], but span 1"):
        spans.join(spans.select(str(tmp_path / "s-{SPAN}.csv"), SpansConfig()), str(tmp_path / "out"))


def test_folder_spans_merge_their_files_and_keep_both_of_a_name(tmp_path):
    for span in (1, 2):
        folder = tmp_path / f"images-{span}" / "cat"
        folder.mkdir(parents=True)
        (folder / "a.png").write_bytes(bytes([span]))
    chosen = spans.select(str(tmp_path / "images-{SPAN}"), SpansConfig())
    merged = spans.join(chosen, str(tmp_path / "work"))
    files = sorted(p.name for p in (tmp_path / "work" / "spans-1-2" / "cat").iterdir())
    assert merged.endswith("spans-1-2") and files == ["a.png", "span2-a.png"]
    assert (tmp_path / "work" / "spans-1-2" / "cat" / "span2-a.png").read_bytes() == bytes([2])


def test_spans_settings_are_checked():
    with pytest.raises(ValueError, match="spans.window"):
        SpansConfig(window=0).validate()
    with pytest.raises(ValueError, match="spans.split"):
        SpansConfig(split="time").validate()


def test_rows_of_spans_keep_their_split_when_more_rows_arrive():
    from data.splits import split_groups

    keys = np.array([f"review {i}" for i in range(400)], dtype=object)
    first = split_groups(np.arange(300), np.zeros(300), [0.7, 0.15, 0.15], True, 7, keys[:300])
    grown = split_groups(np.arange(400), np.zeros(400), [0.7, 0.15, 0.15], True, 7, keys)
    assert (grown[:300] == first).all()  # a permutation would have reshuffled them
    shares = {s: float(np.mean(grown == s)) for s in ("train", "eval", "test")}
    assert abs(shares["train"] - 0.7) < 0.08 and min(shares["eval"], shares["test"]) > 0.08
    assert (split_groups(np.arange(300), np.zeros(300), [0.7, 0.15, 0.15], True, 8, keys[:300]) != first).any()
