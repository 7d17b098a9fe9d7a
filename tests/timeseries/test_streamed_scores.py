"""The Scorer streams a split (tasks/timeseries/scores.score): chunk by chunk it must find the
errors of the whole split at once, and the chunked reader must give every example once, in order."""
from __future__ import annotations

import numpy as np
import pytest

from components import examples_io
from tasks.timeseries import challengers


def test_error_sums_over_chunks_are_the_errors_of_the_whole_split():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(101, 6, 3)) * [1.0, 5.0, 20.0]  # columns of different scales
    forecast = truth + rng.normal(size=truth.shape) * [0.5, 1.0, 4.0]
    sums = challengers.ErrorSums()
    for start in range(0, 101, 16):  # 7 chunks, the last short
        sums.add(truth[start : start + 16], forecast[start : start + 16])
    diff = truth - forecast
    mae = np.mean([np.abs(diff[..., c]).mean() for c in range(3)])  # per column, then averaged
    rmse = np.mean([np.sqrt(np.square(diff[..., c]).mean()) for c in range(3)])
    assert sums.windows == 101
    assert sums.errors() == {"mae": pytest.approx(mae, rel=1e-9), "rmse": pytest.approx(rmse, rel=1e-9)}
    assert sums.mae_by_step() == pytest.approx(np.abs(diff).mean(axis=(0, 2)).tolist(), rel=1e-9)
    whole = challengers.errors(truth, forecast)
    assert whole == {k: pytest.approx(v, rel=1e-12) for k, v in sums.errors().items()}


def test_iter_split_reads_every_example_once_in_chunks(tmp_path):
    uri = str(tmp_path)
    examples_io.write_split(uri, "test", (examples_io.to_tf_example({"i": [float(i)]}) for i in range(10)))
    chunks = list(examples_io.iter_split(uri, "test", 3))
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [r for c in chunks for r in c] == examples_io.read_split(uri, "test")
    with pytest.raises(FileNotFoundError):
        next(examples_io.iter_split(uri, "eval", 3))
