"""The decision gate: which targets it asks for, and when it blesses (real CartPole rollouts)."""
from __future__ import annotations

import numpy as np

from data.config import PipelineConfig
from tasks.decision.rollout_evaluator import judge, targets

CARTPOLE_INFO = {"env_id": "CartPole-v1", "context_length": 4, "data_best_return": 500.0, "max_return": 500.0, "return_scale": 500.0}


def test_targets_reach_the_maximum_and_below_it_for_the_curve():
    assert targets(CARTPOLE_INFO) == [125.0, 250.0, 375.0, 500.0]
    assert targets({**CARTPOLE_INFO, "data_best_return": 420.0, "max_return": None}) == [105.0, 210.0, 315.0, 420.0]
    pendulum = {"data_best_return": -0.5, "max_return": 0.0, "return_scale": 1000.0}
    assert targets(pendulum) == [-750.0, -500.0, -250.0, -0.5, 0.0]


class Policy:
    """A fixed CartPole controller standing where a SavedModel would: `act` reads the newest state."""

    def __init__(self, acts_well: bool, clones_well: bool):
        self.info = CARTPOLE_INFO
        self.acts_well, self.clones_well = acts_well, clones_well

    @staticmethod
    def control(states: np.ndarray, well: bool) -> np.ndarray:  # (n, S) -> (n,)
        return (states[:, 2] + 0.5 * states[:, 3] > 0).astype(int) if well else (states[:, 0] > 0).astype(int)

    def act(self, context: dict) -> np.ndarray:
        return self.control(context["states"][:, -1], self.acts_well)

    def clone(self, states: np.ndarray) -> np.ndarray:
        return self.control(states, self.clones_well)


def config() -> PipelineConfig:
    return PipelineConfig.from_dict({"task": "decision", "decision": {"rollout_episodes": 2}})


DATA = {"mean_return": 195.7, "max_return": 500.0, "episodes": 300}


def test_a_policy_that_beats_the_data_and_cloning_is_blessed():
    scores = judge(config(), Policy(acts_well=True, clones_well=False), None, DATA)
    assert scores["blessed"] and scores["reasons"] == []
    assert scores["model"] == {"target_return": 500.0, "mean_return": 500.0, "std_return": 0.0, "episodes": 2}
    assert scores["behaviour_cloning"]["mean_return"] < 100
    assert [p["target_return"] for p in scores["curve"]] == [125.0, 250.0, 375.0, 500.0]
    assert scores["test"]["model"]["mean_return"] == 500.0 and scores["test"]["seeds"][0] != scores["seeds"][0]


def test_losing_to_the_data_to_cloning_or_to_the_deployed_model_is_not_blessed():
    scores = judge(config(), Policy(acts_well=False, clones_well=True), None, DATA)
    assert not scores["blessed"]
    assert any("does not beat the data's 195.7" in r for r in scores["reasons"])
    assert any("does not beat behaviour cloning's 500.0" in r for r in scores["reasons"])
    tied = judge(config(), Policy(acts_well=True, clones_well=True), None, DATA)  # as good as cloning: not better
    assert not tied["blessed"]
    worse_than_deployed = judge(config(), Policy(acts_well=False, clones_well=False), Policy(True, False), {**DATA, "mean_return": 5.0})
    assert any("below the deployed model's 500.0" in r for r in worse_than_deployed["reasons"])
    assert worse_than_deployed["deployed"]["mean_return"] == 500.0


def test_missing_episode_returns_are_an_error_not_a_data_return_of_zero():
    """Fail closed: the data's mean return is the bar; an artifact without it cannot be judged."""
    import json

    import pytest
    from tfx.types import standard_artifacts

    from tasks.decision.rollout_evaluator import data_returns

    examples = standard_artifacts.Examples()
    examples.uri = "/nowhere/examples"
    with pytest.raises(ValueError, match="records no 'episode_returns'"):
        data_returns(examples)
    examples.set_string_custom_property("episode_returns", json.dumps({"train": {"mean_return": 40.0, "max_return": 90.0}}))
    examples.set_int_custom_property("episodes_train", 3)
    assert data_returns(examples) == {"mean_return": 40.0, "max_return": 90.0, "episodes": 3}
