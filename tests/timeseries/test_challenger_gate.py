"""The Evaluator's gate against the challengers: TFMA's own validator on our metric and EvalConfig.

Examples are built where persistence is exact (every future value equals the last
observed one), so any candidate with an error is worse than persistence and must be
stopped, with persistence named. The metric's values are checked against numpy.
"""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_types

from pipeline import evaluation_results
from pipeline.config import load_config
from tasks.timeseries import challengers, features, forecast_metrics
from tasks.timeseries import gate as timeseries_gate

LOOKBACK, HORIZON, SEASON = 8, 4, 4
COLUMNS = ["a", "b"]


def _fixture(seed=0, n=40):
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


def _config(min_improvement=0.0):
    return load_config(
        "timeseries",
        overrides=[
            f"series.input_columns={COLUMNS}", f"series.target_columns={COLUMNS}", f"series.lookback={LOOKBACK}",
            f"series.horizon={HORIZON}", f"series.season={SEASON}", f"evaluation.min_improvement={min_improvement}",
        ],
    )  # fmt: skip


def _verdict(metrics: dict, config) -> tuple[bool, str]:
    """TFMA's validator on the EvalConfig as TFX's Evaluator prepares it for a first run (no baseline)."""
    eval_config = tfma.utils.update_eval_config_with_defaults(
        timeseries_gate.eval_config(config), has_baseline=False, rubber_stamp=True
    )
    result = metrics_validator.validate_metrics(((), metrics), eval_config)
    failures = [
        {"metric": evaluation_results.metric_name(f.metric_key), "message": f.message}
        for per_slice in result.metric_validations_per_slice
        for f in per_slice.failures
    ]
    candidate = {key.name: value for key, value in metrics.items()}
    return result.validation_ok, evaluation_results.verdict(
        result.validation_ok, failures, False, {"candidate": candidate}, words=timeseries_gate
    )


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


def test_a_candidate_worse_than_persistence_is_stopped_and_persistence_named():
    rng, windows, truth = _fixture()
    model = truth + 0.1 * rng.normal(size=truth.shape)  # close, but persistence is exact
    linear = truth + rng.normal(size=truth.shape)
    blessed, why = _verdict(_metrics(windows, truth, model, linear), _config())
    assert not blessed
    assert "stopped by the persistence challenger" in why
    assert "linear" not in why and "seasonal_naive" not in why  # those two it does beat


def test_a_candidate_that_beats_every_challenger_passes_unless_the_margin_asks_more():
    rng, windows, truth = _fixture()
    truth = truth + rng.normal(size=truth.shape)  # persistence is no longer exact
    model = truth + 0.05 * rng.normal(size=truth.shape)
    linear = truth + 0.5 * rng.normal(size=truth.shape)
    metrics = _metrics(windows, truth, model, linear)
    assert _verdict(metrics, _config())[0]
    ratio = max(v for k, v in metrics.items() if k.name.endswith("_ratio"))
    blessed, why = _verdict(metrics, _config(min_improvement=1 - ratio / 2))
    assert not blessed and "stopped by the linear challenger" in why  # linear is the strongest here


def test_equal_to_a_challenger_is_not_better():
    _, windows, truth = _fixture()
    persistence = challengers.persistence(windows, HORIZON)
    blessed, why = _verdict(_metrics(windows, truth + 1.0, persistence, persistence), _config())
    assert not blessed and "persistence" in why


def test_min_improvement_must_be_a_fraction():
    with pytest.raises(ValueError, match=r"evaluation.min_improvement \(1.5\)"):
        timeseries_gate.challenger_ratio_bound(1.5)
