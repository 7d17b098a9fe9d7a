"""Logged trajectories: seeded, shaped as a user's CSV, and the recipe the figures came from.

The pinned returns come from the prototype's own generators (the CartPole "miscal" mix and
the Pendulum mix), run with the same episode counts and seeds: a change of rng call order
or of a policy shows up here, not as a silently different data set.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from tasks.decision import source as decision_source
from tasks.decision import trajectory_log as decision_logging

TOY_ENV = "DecisionLoggingToy-v0"  # a two-dimensional continuous action, five steps per episode


class _TwoJointToy(gym.Env):
    action_space = gym.spaces.Box(
        low=np.array([-1.0, 0.0], np.float32), high=np.array([1.0, 3.0], np.float32)
    )
    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.np_random.normal(size=2).astype(np.float32), {}

    def step(self, action):
        return np.asarray(action, np.float32), float(-np.sum(np.square(action))), False, False, {}


if TOY_ENV not in gym.registry:
    gym.register(TOY_ENV, entry_point=_TwoJointToy, max_episode_steps=5)


def _steps_per_episode(frame: pd.DataFrame) -> dict[int, list[int]]:
    return {int(e): rows["step"].tolist() for e, rows in frame.groupby("episode")}


def test_same_seed_same_log_other_seed_another():
    first, first_meta = decision_logging.collect("CartPole-v1", 4, seed=3)
    again, again_meta = decision_logging.collect("CartPole-v1", 4, seed=3)
    other, _ = decision_logging.collect("CartPole-v1", 4, seed=4)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first_meta, again_meta)
    assert not first.equals(other)
    # episodes of different seeds start from different states
    assert not np.allclose(
        first.loc[first.step == 0, "state_0"], other.loc[other.step == 0, "state_0"]
    )


def test_cartpole_matches_the_measured_recipe():
    """Returns of the prototype's generate_data(n_episodes=8, seed=0, mix="miscal",
    frac_random=0.2, frac_good=0.15); its 300-episode log (mean ~195.7) is byte-identical."""
    frame, meta = decision_logging.collect("CartPole-v1", 8, seed=0)
    assert meta["return"].tolist() == [124.0, 77.0, 34.0, 12.0, 76.0, 500.0, 143.0, 132.0]
    # Episode lengths and discrete actions are decided by the seed on any CPU: pushes right per episode.
    assert frame.groupby("episode")["action"].sum().tolist() == [69, 42, 19, 8, 43, 250, 79, 72]
    assert meta["policy"].tolist() == ["miscalibrated", "miscalibrated", "random", "random"] + [
        "miscalibrated", "good", "miscalibrated", "miscalibrated"
    ]  # fmt: skip
    miscalibrated = meta[meta.policy == "miscalibrated"]
    assert miscalibrated["threshold"].between(*decision_logging.MISCALIBRATED_THRESHOLD).all()
    assert miscalibrated["random_share"].between(*decision_logging.MISCALIBRATED_RANDOM_SHARE).all()


# Pendulum's dynamics go through numpy's sin/cos, whose last bits differ between CPUs
# (AVX2 and AVX-512 SIMD kernels): a return summed over 200 steps moves by ~1e-8 relative
# from one machine to another. Floats of a simulation are pinned to 1e-6, never to their
# last bits; what the seed decides exactly (policies, episode lengths, discrete actions)
# is compared exactly.
SIMULATION_RTOL = 1e-6


def test_pendulum_matches_the_measured_recipe():
    """Returns of the prototype's pend.py generate(n=3, seed=0); its 300 episodes average ~-699."""
    frame, meta = decision_logging.collect("Pendulum-v1", 3, seed=0)
    assert meta["policy"].tolist() == ["noisy", "random", "random"]
    np.testing.assert_allclose(
        meta["return"], [-252.7319806820593, -899.7062667885701, -1062.049987526673], rtol=SIMULATION_RTOL
    )
    actions = frame.groupby("episode")["action"]
    np.testing.assert_allclose(  # the actions themselves, through their sums and absolute sums
        actions.sum(), [-69.03881954327345, 18.5738127825964, 13.520640168889717], rtol=SIMULATION_RTOL
    )
    np.testing.assert_allclose(
        actions.apply(lambda a: a.abs().sum()), [190.74424918233447, 195.79386253763454, 197.29091359916595],
        rtol=SIMULATION_RTOL,
    )
    assert list(frame.columns) == [
        "episode",
        "step",
        "state_0",
        "state_1",
        "state_2",
        "action",
        "reward",
    ]
    assert frame["action"].between(-2.0, 2.0).all()
    assert (meta["steps"] == 200).all()


def test_columns_and_step_numbering():
    frame, meta = decision_logging.collect("CartPole-v1", 3, seed=1)
    assert list(frame.columns) == [
        "episode",
        "step",
        "state_0",
        "state_1",
        "state_2",
        "state_3",
        "action",
        "reward",
    ]
    for episode, steps in _steps_per_episode(frame).items():
        assert steps == list(range(len(steps))), episode
    assert sorted(_steps_per_episode(frame)) == [0, 1, 2] == meta["episode"].tolist()


def test_cartpole_returns_are_episode_lengths_and_actions_in_space():
    frame, meta = decision_logging.collect("CartPole-v1", 5, seed=2)
    lengths = frame.groupby("episode").size()
    assert (frame["reward"] == 1.0).all()
    assert (
        frame.groupby("episode")["reward"].sum().tolist()
        == lengths.tolist()
        == meta["return"].tolist()
    )
    assert meta["steps"].tolist() == lengths.tolist()
    assert set(frame["action"].unique()) <= {0, 1}
    assert frame["action"].dtype.kind == "i"


def test_other_environments_log_a_random_policy():
    frame, meta = decision_logging.collect(TOY_ENV, 3, seed=0)
    assert list(frame.columns) == [
        "episode",
        "step",
        "state_0",
        "state_1",
        "action_0",
        "action_1",
        "reward",
    ]
    assert set(meta["policy"]) == {"random"} and (meta["steps"] == 5).all()
    assert frame["action_0"].between(-1.0, 1.0).all() and frame["action_1"].between(0.0, 3.0).all()
    assert frame["action_1"].std() > 0.3  # spread over the box, not a constant
    acrobot, _ = decision_logging.collect("Acrobot-v1", 1, seed=0)  # Discrete(3)
    assert set(acrobot["action"].unique()) == {0, 1, 2}


def test_written_csv_is_what_the_pipeline_reads(tmp_path):
    path = tmp_path / "logs" / "cartpole.csv"
    frame = decision_logging.log_trajectories("CartPole-v1", 3, seed=0, path=str(path))
    read = decision_source.read_steps(str(path))
    pd.testing.assert_frame_equal(read, frame)
    episodes = decision_source.episodes(read)
    assert [e.episode_return for e in episodes] == frame.groupby("episode")["reward"].sum().tolist()
    assert episodes[0].states.shape == (len(episodes[0].steps), 4)


def test_main_prints_counts_and_returns(tmp_path, capsys):
    out = tmp_path / "toy.csv"
    assert (
        decision_logging.main(
            ["--env", TOY_ENV, "--episodes", "2", "--seed", "0", "--out", str(out)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "2 episodes, 10 steps" in printed and "return: mean" in printed
    assert len(pd.read_csv(out)) == 10


def test_episodes_must_be_positive():
    with pytest.raises(ValueError, match="episodes"):
        decision_logging.collect("CartPole-v1", 0, seed=0)
