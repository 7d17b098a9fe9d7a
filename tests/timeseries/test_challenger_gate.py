"""The time-series gate: its TFMA metrics (reported) and its paired rule (what blesses).

Examples are built where persistence is exact (every future value equals the last
observed one), so any candidate with an error is worse than persistence and must be
stopped, with persistence named. The metric's values are checked against numpy; the
paired rule reads serialized examples as the Evaluator does.
"""
from __future__ import annotations

import numpy as np
import pytest
from tensorflow_model_analysis.metrics import metric_types

from components import examples_io, paired_gate
from pipeline.config import load_config
from tasks.timeseries import challengers, features, forecast_metrics
from tasks.timeseries import gate as timeseries_gate

LOOKBACK, HORIZON, SEASON = 8, 4, 4
COLUMNS = ["a", "b"]


def _fixture(seed=0, n=400):
    """windows (N, T, C) of random walks, truth (N, H, C) = the last value (persistence is exact)."""
    rng = np.random.default_rng(seed)
    windows = np.cumsum(rng.normal(size=(n, LOOKBACK, len(COLUMNS))), axis=1)
    truth = np.repeat(windows[:, -1:, :], HORIZON, axis=1)
    return rng, windows, truth


def _metrics(windows, truth, model, linear, model_name="") -> dict:
    """Every ForecastErrors metric over the examples, as TFMA's combiner computes it."""
    values = {}
    for name in forecast_metrics.METRIC_NAMES:
        key = metric_types.MetricKey(name=name, model_name=model_name)
        combiner = forecast_metrics._ForecastErrorsCombiner(key, COLUMNS, SEASON)
        sums = [combiner.create_accumulator(), combiner.create_accumulator()]
        for i in range(len(windows)):
            element = metric_types.StandardMetricInputs(
                features={
                    **{features.window_key(c): windows[i, :, j] for j, c in enumerate(COLUMNS)},
                    **{features.target_key(c): truth[i, :, j] for j, c in enumerate(COLUMNS)},
                },
                predictions={
                    **{features.forecast_output_key(c): model[i, :, j] for j, c in enumerate(COLUMNS)},
                    **{features.challenger_output_key("linear", c): linear[i, :, j] for j, c in enumerate(COLUMNS)},
                },
            )
            sums[i % 2] = combiner.add_input(sums[i % 2], element)  # two shards, merged as Beam does
        values.update(combiner.extract_output(combiner.merge_accumulators(sums)))
    return values


def _config(*overrides):
    return load_config(
        "timeseries",
        overrides=[
            f"series.input_columns={COLUMNS}", f"series.target_columns={COLUMNS}", f"series.lookback={LOOKBACK}",
            f"series.horizon={HORIZON}", f"series.season={SEASON}", *overrides,
        ],
    )  # fmt: skip


def _judge(windows, truth, model, linear, config, deployed=None) -> dict:
    """The paired gate as the Evaluator runs it: the task's losses on serialized eval examples
    and the evaluation signature's outputs (the candidate's and the linear challenger's)."""
    records = [
        examples_io.to_tf_example({
            **{features.window_key(c): windows[i, :, j].astype(np.float32) for j, c in enumerate(COLUMNS)},
            **{features.target_key(c): truth[i, :, j].astype(np.float32) for j, c in enumerate(COLUMNS)},
        }).SerializeToString()
        for i in range(len(windows))
    ]  # fmt: skip
    def outputs(forecast):
        return {
            **{features.forecast_output_key(c): forecast[:, :, j] for j, c in enumerate(COLUMNS)},
            **{features.challenger_output_key("linear", c): linear[:, :, j] for j, c in enumerate(COLUMNS)},
        }
    spec = timeseries_gate.gate(config)
    losses = timeseries_gate.losses(outputs(model), records, spec.config)
    deployed_losses = None if deployed is None else timeseries_gate.losses(outputs(deployed), records, spec.config)["model"]
    return paired_gate.judge(spec, losses, deployed_losses)


def test_metric_values_match_numpy():
    rng, windows, truth = _fixture()
    truth = truth + rng.normal(size=truth.shape)  # so that every forecaster has an error
    model, linear = truth + rng.normal(size=truth.shape), truth + 2 * rng.normal(size=truth.shape)
    metrics = {key.name: value for key, value in _metrics(windows, truth, model, linear).items()}
    forecasts = {"model": model, "linear": linear, **challengers.naive_forecasts(windows, HORIZON, SEASON)}
    for name, forecast in forecasts.items():
        diff = truth - forecast
        mae = np.mean([np.abs(diff[..., c]).mean() for c in range(len(COLUMNS))])
        rmse = np.mean([np.sqrt(np.square(diff[..., c]).mean()) for c in range(len(COLUMNS))])
        prefix = "forecast" if name == "model" else name
        assert metrics[f"{prefix}_mae"] == pytest.approx(mae, rel=1e-9)
        assert metrics[f"{prefix}_rmse"] == pytest.approx(rmse, rel=1e-9)
        assert challengers.errors(truth, forecast) == pytest.approx({"mae": mae, "rmse": rmse}, rel=1e-9)
        if name != "model":
            assert metrics[f"{name}_ratio"] == pytest.approx(metrics["forecast_mae"] / mae, rel=1e-9)


def test_the_gate_losses_are_the_absolute_errors_per_window():
    rng, windows, truth = _fixture(n=20)
    truth = truth + rng.normal(size=truth.shape)
    model, linear = truth + rng.normal(size=truth.shape), truth + 2 * rng.normal(size=truth.shape)
    judged = _judge(windows, truth, model, linear, _config())
    naive = challengers.naive_forecasts(windows, HORIZON, SEASON)
    for name, forecast in {"persistence": naive["persistence"], "linear": linear}.items():
        gains = (np.abs(truth - forecast).mean(axis=(1, 2)) - np.abs(truth - model).mean(axis=(1, 2)))
        expected = gains.mean() / np.abs(truth - forecast).mean()  # as a fraction of the challenger's MAE
        assert judged["gate"][name]["diff"] == pytest.approx(expected, rel=1e-5)


def test_a_candidate_worse_than_persistence_is_stopped_and_persistence_named():
    rng, windows, truth = _fixture()
    model = truth + 0.1 * rng.normal(size=truth.shape)  # close, but persistence is exact
    linear = truth + rng.normal(size=truth.shape)
    judged = _judge(windows, truth, model, linear, _config())
    assert not judged["blessed"]
    assert judged["gate"]["persistence"]["verdict"] == "worse"
    assert judged["reasons"] and all("persistence" in r for r in judged["reasons"])
    assert judged["gate"]["linear"]["passed"] and judged["gate"]["seasonal_naive"]["passed"]  # those two it does beat


def test_at_the_level_of_ridge_it_passes_unless_beat_strong_asks_for_better():
    rng, windows, truth = _fixture()
    truth = truth + rng.normal(size=truth.shape)  # persistence is no longer exact
    model = truth + 0.3 * rng.normal(size=truth.shape)
    linear = model + 0.01 * rng.normal(size=truth.shape)  # the candidate is its ridge start, give or take
    judged = _judge(windows, truth, model, linear, _config())
    assert judged["blessed"], judged["reasons"]
    assert judged["gate"]["linear"]["verdict"] == "no_difference"
    strict = _judge(windows, truth, model, linear, _config("evaluation.beat_strong=true"))
    assert not strict["blessed"] and "linear challenger" in strict["reasons"][0]


def test_a_candidate_far_worse_than_the_deployed_model_is_refused():
    rng, windows, truth = _fixture()
    truth = truth + rng.normal(size=truth.shape)
    model = truth + 0.3 * rng.normal(size=truth.shape)
    deployed = truth + 0.1 * rng.normal(size=truth.shape)
    judged = _judge(windows, truth, model, model, _config(), deployed=deployed)
    assert judged["gate"]["deployed"]["verdict"] == "worse" and not judged["blessed"]
    assert _judge(windows, truth, model, model, _config(), deployed=model)["gate"]["deployed"]["passed"]


def test_windows_are_resampled_in_blocks_at_least_a_horizon_long():
    """A horizon in time: at stride 1, HORIZON windows; at a stride of the horizon or more, 1."""
    rng, windows, truth = _fixture()
    noisy = truth + rng.normal(size=truth.shape)
    judged = _judge(windows, noisy, truth, truth, _config("series.stride=1"))
    assert all(entry["block"] >= HORIZON for entry in judged["gate"].values())
    assert timeseries_gate.gate(_config(f"series.stride={HORIZON}")).block == 1
