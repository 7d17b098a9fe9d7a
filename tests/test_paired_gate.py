"""The paired gate's rule (components/paired_gate.py) on per-example losses whose truth is known."""
import json

import numpy as np
import pytest

from components import paired_gate as pg
from components.gate_config import gate_settings
from pipeline.config import load_config

STRONG = pg.Comparison("linear", "the linear challenger", pg.NON_INFERIORITY, 0.02)
NAIVE = pg.Comparison("persistence", "the persistence challenger", pg.SUPERIORITY)


def _spec(**changes) -> pg.GateSpec:
    spec = dict(losses="unused", comparisons=(NAIVE, STRONG), deployed_margin=0.02, relative=True,
                unit=pg.RELATIVE_UNIT, block=1, start="linear", start_label="its ridge start")  # fmt: skip
    return pg.GateSpec(**{**spec, **changes})


def _losses(seed=0, n=2000, naive_worse=1.3, strong_ratio=1.0):
    """Absolute errors: the candidate's, a naive forecaster's `naive_worse` times larger, and a
    strong one's that differs from the candidate's by noise only, times `strong_ratio`."""
    rng = np.random.default_rng(seed)
    model = np.abs(rng.normal(size=n))
    return {pg.CANDIDATE: model, "persistence": naive_worse * np.abs(rng.normal(size=n)),
            "linear": strong_ratio * np.abs(model + 0.05 * rng.normal(size=n))}  # fmt: skip


def test_a_model_at_the_level_of_ridge_is_blessed_with_its_verdicts_stated():
    """The ETTh2 case: a ratio of 1.0001 against ridge is no evidence of a loss; it passes
    non-inferiority, and the naive challenger is beaten beyond noise."""
    judged = pg.judge(_spec(), _losses(strong_ratio=0.9999))
    assert judged["blessed"], judged["reasons"]
    assert judged["gate"]["persistence"]["verdict"] == "better"
    assert judged["gate"]["linear"]["verdict"] == "no_difference"
    for entry in judged["gate"].values():
        assert entry["ci_low"] <= entry["diff"] <= entry["ci_high"]
    assert judged["transformer_gain"]["over"] == "its ridge start"
    json.dumps(judged)  # plain JSON, as ML Metadata stores it


def test_a_candidate_clearly_worse_than_ridge_is_refused_and_the_reason_names_it():
    judged = pg.judge(_spec(), _losses(strong_ratio=0.8))  # ridge's errors 20 % smaller
    assert not judged["blessed"]
    assert judged["gate"]["linear"]["verdict"] == "worse"
    assert len(judged["reasons"]) == 1 and "the linear challenger" in judged["reasons"][0]
    assert "FAILED" in judged["reasons"][0]


def test_superiority_refuses_a_candidate_no_better_than_the_naive_challenger():
    judged = pg.judge(_spec(), _losses(naive_worse=1.0))
    assert judged["gate"]["persistence"]["verdict"] == "no_difference"
    assert not judged["blessed"]


def test_beat_strong_turns_non_inferiority_into_superiority():
    strong = pg.Comparison("linear", "the linear challenger", pg.SUPERIORITY)
    judged = pg.judge(_spec(comparisons=(NAIVE, strong)), _losses(strong_ratio=1.0))
    assert not judged["blessed"] and judged["gate"]["linear"]["verdict"] == "no_difference"


def test_the_deployed_model_is_compared_by_non_inferiority():
    losses = _losses()
    same = pg.judge(_spec(), losses, deployed=losses[pg.CANDIDATE] * 1.001)
    assert same["blessed"] and same["gate"]["deployed"]["rule"] == pg.NON_INFERIORITY
    better = pg.judge(_spec(), losses, deployed=losses[pg.CANDIDATE] * 0.7)  # the deployed model errs 30 % less
    assert not better["blessed"] and better["gate"]["deployed"]["verdict"] == "worse"


def test_a_missing_challenger_fails_closed():
    losses = _losses()
    del losses["linear"]
    with pytest.raises(ValueError, match="no losses for \\['linear'\\]"):
        pg.judge(_spec(), losses)


def test_the_statement_says_when_the_model_is_its_start():
    judged = pg.judge(_spec(), _losses(), kept_epoch=0)
    assert judged["transformer_gain"]["kept_epoch"] == 0
    assert "did not improve on its start" in judged["statement"] and "its ridge start" in judged["statement"]
    improved = pg.judge(_spec(), {**_losses(), "linear": 1.5 * _losses()[pg.CANDIDATE]}, kept_epoch=4)
    assert "improved on its start" in improved["statement"]


def test_a_warm_started_model_kept_at_epoch_0_is_not_called_its_linear_start():
    judged = pg.judge(_spec(), _losses(), kept_epoch=0, warm_started=True)
    assert judged["transformer_gain"]["warm_started"] is True
    assert "warm-started from the blessed model" in judged["statement"] and "the warm start itself" in judged["statement"]
    assert "did not improve on its start" not in judged["statement"]


def test_spec_round_trips_through_json():
    spec = _spec()
    assert pg.GateSpec.from_json(spec.to_json()) == spec


def test_replaced_thresholds_are_an_error_naming_their_replacement():
    config = load_config("timeseries", overrides=["evaluation.max_mae_increase=0.01"])
    with pytest.raises(ValueError, match="deployed_margin"):
        gate_settings(config, pg.RELATIVE_UNIT)
    with pytest.raises(ValueError, match=r"evaluation.margin \(1.5\)"):
        gate_settings(load_config("timeseries", overrides=["evaluation.margin=1.5"]), pg.RELATIVE_UNIT)


def test_independent_examples_stored_in_class_order_are_not_taken_for_dependent_ones():
    """Clips stored word by word: the gains cluster by position, which is not dependence."""
    losses = {pg.CANDIDATE: np.zeros(20), "majority": np.r_[np.zeros(13), np.ones(7)], "linear": np.zeros(20)}
    spec = _spec(comparisons=(pg.Comparison("majority", "the majority class", pg.SUPERIORITY),), relative=False)
    judged = pg.judge(spec, losses)["gate"]["majority"]
    assert judged["block"] == 1 and judged["verdict"] == "better"  # +35 points, t interval on 20 independent clips
    windows = pg.judge(_spec(comparisons=spec.comparisons, relative=False, ordered=True, block=1), losses)["gate"]["majority"]
    assert windows["block"] > 1  # in time order, the same run of gains would be dependence
