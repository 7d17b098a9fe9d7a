"""From logged steps to episodes, their checks, splits, returns-to-go and context windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components import examples_io
from data.splits import SPLITS
from tasks.decision import features
from tasks.decision import source as decision_source
from tasks.decision.config import DecisionConfig
from tasks.decision.example_gen import trajectory_status, write_splits
from tasks.decision.preprocessing import returns_to_go
from tasks.decision.rollout import action_space_info
from tasks.decision.windows import Episodes, context_windows

CARTPOLE = action_space_info("CartPole-v1")
PENDULUM = action_space_info("Pendulum-v1")


def steps_frame(lengths: dict[int, int], seed: int = 0) -> pd.DataFrame:
    """CartPole-shaped logged steps: episode id -> number of steps."""
    rng = np.random.default_rng(seed)
    rows = []
    for episode, length in lengths.items():
        for step in range(length):
            rows.append([episode, step, *rng.normal(size=4).round(4), int(rng.integers(2)), 1.0])
    return pd.DataFrame(
        rows,
        columns=["episode", "step", "state_0", "state_1", "state_2", "state_3", "action", "reward"],
    )


def episode_of(frame: pd.DataFrame) -> decision_source.Episode:
    return decision_source.episodes(frame)[0]


def test_returns_to_go_of_known_episodes():
    rewards = tf.sparse.from_dense(
        tf.constant([[1.0, 2.0, 3.0], [5.0, 1.0, 0.0]])
    )  # the second ends after 2 steps
    rewards = tf.SparseTensor(rewards.indices[:5], rewards.values[:5], rewards.dense_shape)
    np.testing.assert_allclose(returns_to_go(rewards).numpy(), [6.0, 5.0, 3.0, 6.0, 1.0])


def test_a_clean_episode_is_ok():
    assert trajectory_status(episode_of(steps_frame({3: 5})), CARTPOLE) == features.TRAJECTORY_OK


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda f: f.drop(index=3), "step 4 follows step 2"),
        (
            lambda f: f.assign(state_2=f.state_2.where(f.step != 2, np.nan)),
            "state is not finite at step 2",
        ),
        (
            lambda f: f.assign(reward=f.reward.where(f.step != 1, np.inf)),
            "reward is not finite at step 1",
        ),
        (
            lambda f: f.assign(action=f.action.where(f.step != 3, 2)),
            "action [2.0] at step 3 is outside Discrete(2)",
        ),
        (
            lambda f: f.assign(action=f.action.where(f.step != 0, 0.5)),
            "at step 0 is outside Discrete(2)",
        ),
        (lambda f: f.iloc[:1], "one step only"),
    ],
    ids=["gap", "state", "reward", "action", "fractional action", "one step"],
)
def test_each_problem_is_named_with_its_step(damage, words):
    status = trajectory_status(episode_of(damage(steps_frame({0: 6}))), CARTPOLE)
    assert words in status, status


def test_continuous_actions_are_checked_against_the_box():
    episode = decision_source.Episode(
        episode=0, steps=np.arange(3), states=np.zeros((3, 3), np.float32),
        actions=np.array([[0.5], [-2.0], [2.5]], np.float32), rewards=np.zeros(3, np.float32),
    )  # fmt: skip
    assert "action [2.5] at step 2 is outside Box([-2.0], [2.0])" in trajectory_status(
        episode, PENDULUM
    )


def test_a_file_without_the_columns_says_which_are_missing(tmp_path):
    path = tmp_path / "steps.csv"
    steps_frame({0: 3}).drop(columns=["reward"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"missing \['reward'\]"):
        decision_source.read_steps(str(path))


def test_episodes_are_split_whole_and_every_one_once(tmp_path):
    lengths = {e: 3 + e % 7 for e in range(40)}
    path = tmp_path / "steps.csv"
    steps_frame(lengths).sample(frac=1.0, random_state=1).to_csv(
        path, index=False
    )  # rows in any order
    counts, returns = write_splits(
        str(path), DecisionConfig(split_fractions=[0.6, 0.2, 0.2]), 7, str(tmp_path / "out")
    )
    assert counts == {"train": 24, "eval": 8, "test": 8}
    seen = {}
    for split in SPLITS:
        for record in examples_io.read_split(str(tmp_path / "out"), split):
            example = tf.train.Example.FromString(record).features.feature
            episode = example[features.EPISODE_KEY].int64_list.value[0]
            assert episode not in seen
            seen[episode] = split
            steps = list(example[features.STEPS_KEY].int64_list.value)
            assert steps == list(range(lengths[episode]))  # all its steps, in order
            assert len(example[features.STATES_KEY].float_list.value) == 4 * len(steps)
        assert returns[split]["max_return"] <= 9
    assert sorted(seen) == list(range(40))
    again, _ = write_splits(
        str(path), DecisionConfig(split_fractions=[0.6, 0.2, 0.2]), 8, str(tmp_path / "other")
    )
    other = {tf.train.Example.FromString(r).features.feature[features.EPISODE_KEY].int64_list.value[0]
             for r in examples_io.read_split(str(tmp_path / "other"), "test")}  # fmt: skip
    assert other != {e for e, s in seen.items() if s == "test"}  # another seed, another split


def test_a_log_of_another_environment_is_refused(tmp_path):
    path = tmp_path / "steps.csv"
    steps_frame({0: 3}).drop(columns=["state_3"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="3 state and 1 action column.*CartPole-v1 has 4 state"):
        write_splits(str(path), DecisionConfig(), 0, str(tmp_path / "out"))


def test_context_windows_are_left_padded_and_masked():
    episodes = Episodes(
        returns_to_go=[np.array([4.0, 3.0, 2.0, 1.0], np.float32)],
        states=[np.arange(8, dtype=np.float32).reshape(4, 2)],
        actions=[np.array([[1.0], [0.0], [1.0], [1.0]], np.float32)],
        timesteps=[np.arange(10, 14, dtype=np.int32)],
        episode_returns=np.array([4.0], np.float32),
    )
    inputs, targets, mask = context_windows(
        episodes, context_length=3, discrete=True, num_actions=2
    )
    np.testing.assert_array_equal(mask, [[0, 0, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(
        inputs["returns_to_go"], [[0, 0, 4], [0, 4, 3], [4, 3, 2], [3, 2, 1]]
    )
    np.testing.assert_array_equal(
        inputs["timesteps"], [[0, 0, 10], [0, 10, 11], [10, 11, 12], [11, 12, 13]]
    )
    np.testing.assert_array_equal(
        inputs["actions"], [[2, 2, 1], [2, 1, 0], [1, 0, 1], [0, 1, 1]]
    )  # 2: padding
    np.testing.assert_array_equal(targets, [[0, 0, 1], [0, 1, 0], [1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(inputs["states"][1], [[0, 0], [0, 1], [2, 3]])


def test_an_empty_split_records_no_returns(tmp_path):
    path = tmp_path / "steps.csv"
    steps_frame({0: 3, 1: 4, 2: 5}).assign(reward=-1.0).to_csv(path, index=False)
    counts, returns = write_splits(str(path), DecisionConfig(split_fractions=[0.98, 0.01, 0.01]), 0, str(tmp_path / "out"))
    empty = [split for split, count in counts.items() if count == 0]
    assert empty and not set(empty) & set(returns)
    assert all(r["max_return"] < 0 for r in returns.values())  # every return is negative: no 0 stands in for one
