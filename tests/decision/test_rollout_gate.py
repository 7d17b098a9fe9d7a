"""The decision gate: which targets it asks for, and when it blesses (real CartPole rollouts)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from data.config import PipelineConfig
from tasks.decision.config import DecisionGate
from tasks.decision.rollout_evaluator import gate_comparisons, judge, targets

CARTPOLE_INFO = {"env_id": "CartPole-v1", "context_length": 4, "data_best_return": 500.0, "max_return": 500.0, "return_scale": 500.0}


def test_targets_reach_the_maximum_and_below_it_for_the_curve():
    assert targets(CARTPOLE_INFO) == [125.0, 250.0, 375.0, 500.0]
    assert targets({**CARTPOLE_INFO, "data_best_return": 420.0, "max_return": None}) == [105.0, 210.0, 315.0, 420.0]
    pendulum = {"data_best_return": -0.5, "max_return": 0.0, "return_scale": 1000.0}
    assert targets(pendulum) == [-750.0, -500.0, -250.0, -0.5, 0.0]


FILTERED_10, FILTERED_25 = "filtered_behaviour_cloning_10", "filtered_behaviour_cloning_25"


class Policy:
    """Fixed CartPole controllers standing where a SavedModel would: `act` (the Decision
    Transformer) and each cloning signature read the newest state, and act well or badly."""

    def __init__(self, acts_well: bool, clones_well: bool, filtered_well: dict | None = None):
        filtered = {FILTERED_10: False, FILTERED_25: False} if filtered_well is None else filtered_well
        self.well = {"behaviour_cloning": clones_well, **filtered}
        cloning = {name: {"kept_epoch": 1} for name in self.well}
        self.info = {**CARTPOLE_INFO, "kept_epoch": 3, "cloning": cloning}
        self.acts_well = acts_well

    @staticmethod
    def control(states: np.ndarray, well: bool) -> np.ndarray:  # (n, S) -> (n,)
        return (states[:, 2] + 0.5 * states[:, 3] > 0).astype(int) if well else (states[:, 0] > 0).astype(int)

    def act(self, context: dict) -> np.ndarray:
        return self.control(context["states"][:, -1], self.acts_well)

    def clones(self) -> list[str]:
        return sorted(self.well)

    def clone(self, states: np.ndarray, name: str = "behaviour_cloning") -> np.ndarray:
        return self.control(states, self.well[name])


EPISODES = 5  # enough for the t interval (4 degrees of freedom) to separate 500 from a poor controller's ~30


def config(**evaluation) -> PipelineConfig:
    return PipelineConfig.from_dict({"task": "decision", "decision": {"rollout_episodes": EPISODES}, "evaluation": evaluation})


DATA = {"mean_return": 195.7, "max_return": 500.0, "episodes": 300}


def test_a_policy_better_than_the_data_and_no_worse_than_the_clonings_is_blessed():
    scores = judge(config(), Policy(acts_well=True, clones_well=False, filtered_well={FILTERED_10: False, FILTERED_25: True}), None, DATA)
    assert scores["blessed"] and scores["reasons"] == []
    assert json.loads(json.dumps(scores)) == scores  # the Scores artifact is JSON
    assert scores["model"]["returns"] == [500.0] * EPISODES and scores["model"]["target_return"] == 500.0
    assert scores["behaviour_cloning"]["mean_return"] < 100
    assert [p["target_return"] for p in scores["curve"]] == [125.0, 250.0, 375.0, 500.0]
    assert scores["test"]["model"]["mean_return"] == 500.0 and scores["test"]["seeds"][0] != scores["seeds"][0]
    # %BC: the better variant on seeds the gate does not use, then compared on the gate's seeds
    assert scores["filtered_behaviour_cloning"]["variant"] == FILTERED_25
    assert scores["filtered_behaviour_cloning"]["selection_means"][FILTERED_25] == 500.0
    assert scores["filtered_behaviour_cloning"]["selection_means"][FILTERED_10] < 100
    assert not set(range(*scores["selection_seeds"])) & set(range(*scores["seeds"]))
    gate = scores["gate"]
    assert set(gate) == {"data_mean_return", "behaviour_cloning", "filtered_behaviour_cloning"}
    assert gate["data_mean_return"]["verdict"] == "better"
    assert abs(gate["data_mean_return"]["diff"] - (500.0 - 195.7)) < 1e-6
    assert gate["behaviour_cloning"]["verdict"] == "better"
    assert gate["filtered_behaviour_cloning"]["verdict"] == "no_difference"  # both earn 500 on every seed
    assert gate["filtered_behaviour_cloning"]["rules"] == [{"rule": "non_inferiority", "margin": 25.0, "passed": True}]
    for entry in gate.values():
        assert entry["ci_low"] <= entry["diff"] <= entry["ci_high"]
    gain = scores["transformer_gain"]
    assert gain["kept_epoch"] == 3 and gain["diff"] == gate["behaviour_cloning"]["diff"]
    assert gain["words"].startswith("the Decision Transformer earned more than plain behaviour cloning")
    assert len(scores["verdicts"]) == 3 and "against the data's mean return (195.7): better" in scores["verdicts"][0]


def test_losing_to_the_data_to_a_cloning_or_to_the_deployed_model_is_not_blessed():
    scores = judge(config(), Policy(acts_well=False, clones_well=True), None, DATA)
    assert not scores["blessed"]
    assert scores["gate"]["data_mean_return"]["verdict"] == "worse"
    assert any(r.startswith("against the data's mean return (195.7): worse") and r.endswith("must be better: fails") for r in scores["reasons"])
    assert any(r.startswith("against behaviour cloning (500.0): worse") for r in scores["reasons"])
    assert "did not earn significantly more" in scores["transformer_gain"]["words"]
    worse_than_deployed = judge(config(), Policy(False, False), Policy(True, False), {**DATA, "mean_return": 5.0})
    assert worse_than_deployed["gate"]["deployed"]["verdict"] == "worse"
    assert any(r.startswith("against the deployed model (500.0): worse") for r in worse_than_deployed["reasons"])
    assert worse_than_deployed["deployed"]["mean_return"] == 500.0


@pytest.mark.slow
def test_a_tie_with_cloning_passes_non_inferiority_but_not_beat_strong():
    tied = Policy(acts_well=True, clones_well=True)  # as good as cloning: no difference, within the margin
    assert judge(config(), tied, None, DATA)["blessed"]
    strict = judge(config(beat_strong=True), tied, None, DATA)
    assert not strict["blessed"]
    assert any(r.startswith("against behaviour cloning (500.0): no significant difference") and "must be better: fails" in r
               for r in strict["reasons"])  # fmt: skip
    assert [r["rule"] for r in strict["gate"]["behaviour_cloning"]["rules"]] == ["non_inferiority", "superiority"]


def test_the_rule_follows_the_verdicts_on_synthetic_returns():
    """gate_comparisons on seeded synthetic per-seed returns: superiority over the data,
    non-inferiority by a margin that is a fraction of the challenger's mean return."""
    rng = np.random.default_rng(0)
    challenger = rng.normal(400.0, 50.0, size=200)
    rule = DecisionGate(margin=0.05, deployed_margin=0.01)
    by_name = lambda found: {c["name"]: c for c in found if c["rule"] == "non_inferiority"}  # noqa: E731
    slightly_worse = challenger - 5.0 + rng.normal(0.0, 5.0, size=200)  # 5 below, margin 20: non-inferior
    found = by_name(gate_comparisons(rule, slightly_worse, 300.0, {"behaviour_cloning": ("bc", challenger)}))
    assert found["behaviour_cloning"]["evidence"].verdict == "worse" and found["behaviour_cloning"]["passed"]
    assert abs(found["behaviour_cloning"]["margin"] - 0.05 * abs(challenger.mean())) < 1e-9
    far_worse = challenger - 40.0 + rng.normal(0.0, 5.0, size=200)  # 40 below a margin of 20
    assert not by_name(gate_comparisons(rule, far_worse, 300.0, {"behaviour_cloning": ("bc", challenger)}))["behaviour_cloning"]["passed"]
    deployed = by_name(gate_comparisons(rule, slightly_worse, 300.0, {"deployed": ("deployed", challenger)}))["deployed"]
    assert not deployed["passed"] and abs(deployed["margin"] - 0.01 * abs(challenger.mean())) < 1e-9  # its own margin
    data = gate_comparisons(rule, slightly_worse, float(slightly_worse.mean()) - 1.0, {})[0]  # 1 above the data's mean
    assert data["name"] == "data_mean_return" and data["evidence"].verdict == "no_difference" and not data["passed"]


def test_a_model_without_filtered_cloning_fails_closed():
    """A SavedModel without its challengers cannot be judged: an error, not a blessing."""
    old = Policy(acts_well=True, clones_well=False, filtered_well={})
    with pytest.raises(ValueError, match="filtered_behaviour_cloning_"):
        judge(config(), old, None, DATA)


@pytest.mark.parametrize("key, replacement", [("min_return_improvement", "margin"), ("max_return_drop", "deployed_margin")])
def test_the_removed_gate_keys_are_an_error_naming_their_replacement(key, replacement):
    with pytest.raises(ValueError, match=f"evaluation.{key} was replaced by evaluation.{replacement}"):
        judge(config(**{key: 0.0}), Policy(True, False), None, DATA)
    with pytest.raises(ValueError, match="margin"):
        DecisionGate.from_evaluation({"margin": 1.5})
    assert DecisionGate.from_evaluation({}) == DecisionGate(margin=0.05, deployed_margin=0.05, beat_strong=False)


def test_missing_episode_returns_are_an_error_not_a_data_return_of_zero():
    """Fail closed: the data's mean return is the bar; an artifact without it cannot be judged."""
    from tfx.types import standard_artifacts

    from tasks.decision.rollout_evaluator import data_returns

    examples = standard_artifacts.Examples()
    examples.uri = "/nowhere/examples"
    with pytest.raises(ValueError, match="records no 'episode_returns'"):
        data_returns(examples)
    examples.set_string_custom_property("episode_returns", json.dumps({"train": {"mean_return": 40.0, "max_return": 90.0}}))
    examples.set_int_custom_property("episodes_train", 3)
    assert data_returns(examples) == {"mean_return": 40.0, "max_return": 90.0, "episodes": 3}


class Counting(Policy):
    """A policy that balances while the return it is asked for is still to come, then pushes
    towards the cart (and falls): asked for less, it earns about that; every call is counted."""

    def __init__(self):
        super().__init__(acts_well=True, clones_well=False, filtered_well={FILTERED_10: True, FILTERED_25: False})
        self.calls = {"act": 0, "clone": 0}

    def act(self, context: dict) -> np.ndarray:
        self.calls["act"] += 1
        newest = context["states"][:, -1]
        return np.where(context["returns_to_go"][:, -1] > 0, self.control(newest, True), self.control(newest, False))

    def clone(self, states: np.ndarray, name: str = "behaviour_cloning") -> np.ndarray:
        self.calls["clone"] += 1
        return super().clone(states, name)


def test_every_target_and_the_test_seeds_share_one_model_call_per_step():
    """The candidate plays the curve's targets, the gate's and the test seeds in one lockstep
    rollout (at most 500 calls for CartPole), each clone its seed groups in one; the curve still
    follows the target each episode asked for."""
    policy = Counting()
    scores = judge(config(), policy, None, DATA)
    means = [point["mean_return"] for point in scores["curve"]]
    assert [point["target_return"] for point in scores["curve"]] == [125.0, 250.0, 375.0, 500.0]
    for point in scores["curve"][:-1]:  # balances until its target is earned, then falls within a few dozen steps
        assert point["target_return"] < point["mean_return"] < point["target_return"] + 100, scores["curve"]
    assert means == sorted(means) and scores["model"]["mean_return"] == 500.0 and scores["test"]["model"]["mean_return"] == 500.0
    assert policy.calls["act"] == 500  # one call per step for every episode (5 targets x 5 seeds: 2,500 calls one by one)
    assert policy.calls["clone"] <= 3 * 500  # plain cloning and the two %BC variants, one rollout each
    assert scores["filtered_behaviour_cloning"]["variant"] == FILTERED_10 and scores["test"]["filtered_behaviour_cloning"]["mean_return"] == 500.0
    assert scores["test"]["behaviour_cloning"]["mean_return"] < 100
