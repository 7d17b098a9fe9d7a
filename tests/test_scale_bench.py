"""The pure parts of the `scale` benchmark (bench/scale.py): the growth fits, the data scalers
(the series keeps its statistics, the text its class signal) and the RSS attribution."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from bench import growth, rss_sampler, scaled_data

SIZES = [1, 4, 16]


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 1.5])
def test_exponent_recovers_a_power_law_through_noise(k):
    rng = np.random.default_rng(0)
    values = [3.0 * s**k * (1 + 0.02 * rng.standard_normal()) for s in SIZES]
    assert growth.exponent(SIZES, values) == pytest.approx(k, abs=0.05)


def test_exponent_needs_two_sizes_with_positive_values():
    assert growth.exponent([1], [2.0]) is None
    assert growth.exponent(SIZES, [None, 0.0, 5.0]) is None


def test_power_fit_extrapolates_and_finds_where_a_limit_is_reached():
    values = [10.0 * s for s in SIZES]
    assert growth.power_at(SIZES, values, 100) == pytest.approx(1000.0, rel=1e-6)
    assert growth.size_reaching(SIZES, values, 500.0, "power") == pytest.approx(50.0, rel=1e-6)


def test_memory_fit_is_a_fixed_base_plus_what_the_data_adds():
    gib = growth.GIB
    rss = [gib * (1 + 0.5 * s) for s in SIZES]  # 1 GiB base, 0.5 GiB per size unit
    assert growth.affine_at(SIZES, rss, 100) == pytest.approx(51 * gib, rel=1e-6)
    assert growth.size_reaching(SIZES, rss, 24 * gib, "affine") == pytest.approx(46.0, rel=1e-6)
    flat = [gib, gib, gib]
    assert growth.size_reaching(SIZES, flat, 24 * gib, "affine") is None
    # A slope of rounding size (the fit's last bits differ between CPUs) is no growth either.
    rounding = [gib * (1 + 1e-13 * s) for s in SIZES]
    assert growth.size_reaching(SIZES, rounding, 24 * gib, "affine") is None


def test_first_to_break_is_the_cost_that_reaches_its_limit_at_the_smallest_size():
    gib = growth.GIB
    costs = {
        "Flat": {"seconds": [5.0, 5.0, 5.0], "rss_bytes": [gib] * 3},
        "Hungry": {"seconds": [1.0, 4.0, 16.0], "rss_bytes": [gib * (1 + s) for s in SIZES]},  # 23x for 24 GiB
        "Slow": {"seconds": [100.0 * s**1.5 for s in SIZES], "rss_bytes": [gib] * 3},  # a day at ~91x
    }
    name, size, why = growth.first_to_break(costs, SIZES, 24 * gib)
    assert name == "Hungry" and size == pytest.approx(23.0, rel=1e-6) and "memory" in why
    del costs["Hungry"]
    name, size, why = growth.first_to_break(costs, SIZES, 24 * gib)
    assert name == "Slow" and size == pytest.approx((growth.DAY_S / 100) ** (1 / 1.5), rel=1e-3) and "time" in why
    assert growth.first_to_break({"Flat": costs["Flat"]}, SIZES, 24 * gib) is None


def series(rows=500) -> pd.DataFrame:
    t = np.arange(rows)
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
        "a": 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.standard_normal(rows),
        "b": rng.gamma(2.0, 3.0, rows),
    })


def test_tiled_series_is_longer_regular_and_keeps_each_columns_statistics():
    frame = series()
    tiled = scaled_data.tiled_series(frame, 4, "date")
    assert len(tiled) == 4 * len(frame)
    steps = pd.to_datetime(tiled["date"]).diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(hours=1)]  # one regular step, copies end to end
    pd.testing.assert_frame_equal(tiled.iloc[: len(frame)], frame)  # copy 0 is the data itself
    for column in ("a", "b"):
        assert tiled[column].mean() == pytest.approx(frame[column].mean(), rel=0.02)
        assert tiled[column].std() == pytest.approx(frame[column].std(), rel=0.02)
        assert tiled[column].between(frame[column].min(), frame[column].max()).all()  # schema domains hold
    later = tiled.iloc[len(frame) : 2 * len(frame)].reset_index(drop=True)
    assert not np.allclose(later["a"], frame["a"])  # no window repeats exactly


def word_log_odds(frame: pd.DataFrame) -> pd.Series:
    counts = {label: pd.Series(" ".join(part["text"]).split()).value_counts()
              for label, part in frame.groupby("label")}  # fmt: skip
    table = pd.DataFrame(counts).fillna(0) + 1  # (words, 2), add-one smoothed
    return np.log(table["pos"] / table["pos"].sum()) - np.log(table["neg"] / table["neg"].sum())


def test_perturbed_texts_differ_but_keep_the_class_signal():
    rng = np.random.default_rng(2)
    shared, pos, neg = [f"w{i}" for i in range(30)], [f"p{i}" for i in range(10)], [f"n{i}" for i in range(10)]
    rows = []
    for i in range(400):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(shared, 6)) + list(rng.choice(pos if label == "pos" else neg, 3))
        rows.append({"text": " ".join(rng.permutation(words)), "label": label})
    frame = pd.DataFrame(rows)
    scaled = scaled_data.perturbed_texts(frame, 4, "text")
    assert len(scaled) == 4 * len(frame)
    assert (scaled["label"].to_numpy().reshape(4, -1) == frame["label"].to_numpy()).all()
    copy = scaled["text"].iloc[len(frame) : 2 * len(frame)].to_numpy()
    assert (copy != frame["text"].to_numpy()).mean() > 0.95  # the duplicate grouping keeps them apart
    original, grown = word_log_odds(frame), word_log_odds(scaled)
    common = original.index.intersection(grown.index)
    assert np.corrcoef(original[common], grown[common])[0, 1] > 0.95


def test_peaks_attributes_each_sample_to_the_component_running_then():
    samples = [(0.0, 100), (1.0, 300), (2.0, 200), (3.0, 900), (4.0, 50)]
    intervals = {"A": (0.5, 2.5), "B": (2.9, 3.5), "C": (3.6, 3.9)}
    assert rss_sampler.peaks(samples, intervals) == {"A": 300, "B": 900, "C": None}


@pytest.mark.slow
def test_tree_sampler_sees_a_childs_memory():
    code = "import time; block = bytearray(300 * 2**20); time.sleep(3)"
    before = rss_sampler.tree_rss(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        with rss_sampler.TreeSampler(os.getpid(), hz=5) as sampler:
            time.sleep(2.0)
    finally:
        child.wait(timeout=30)
    assert 5 <= len(sampler.samples) <= 15  # ~5 a second
    assert max(rss for _, rss in sampler.samples) - before > 250 * 2**20


def test_raises_is_how_far_each_component_lifts_the_runs_memory_mark():
    assert growth.raises([100.0, 300.0, None, 250.0, 400.0]) == [100.0, 200.0, None, -50.0, 100.0]
