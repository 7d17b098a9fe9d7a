"""Acting with a policy: what the policy is shown at each step, and what the episodes return.

CartPole's reward is 1 per step, so an episode's return is its length and the returns-to-go
a policy sees are exactly the target minus the steps already played.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from tasks.decision import rollout

CARTPOLE, PENDULUM = "CartPole-v1", "Pendulum-v1"
SEEDS = [0, 1, 2]


def good(states: np.ndarray) -> np.ndarray:
    """The calibrated CartPole controller on (n, S) states: it balances for 500 steps."""
    return (states[:, 2] + 0.5 * states[:, 3] > 0).astype(np.int64)


def cart_right(states: np.ndarray) -> np.ndarray:
    """A poor deterministic controller (push towards where the cart is): short, varied episodes."""
    return (states[:, 0] > 0).astype(np.int64)


class Recorder:
    """A random CartPole policy that keeps every context it was shown and the actions it chose."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.contexts: list[dict] = []
        self.chosen: list[np.ndarray] = []

    def __call__(self, context):
        self.contexts.append({k: np.array(v) for k, v in context.items()})
        self.chosen.append(self.rng.integers(2, size=len(context["states"])))
        return self.chosen[-1]


def test_good_heuristic_balances_and_random_falls():
    returns = rollout.rollout(
        CARTPOLE, lambda c: good(c["states"][:, -1]), SEEDS, target_return=500, context_length=4
    )
    np.testing.assert_array_equal(returns, [500.0] * len(SEEDS))
    random = rollout.rollout(CARTPOLE, Recorder(), range(6), target_return=500, context_length=4)
    assert random.shape == (6,) and random.max() < 150 and random.mean() < 60


def test_context_is_the_last_steps_with_returns_to_go_and_timesteps():
    target, K, seeds = 40.0, 3, [10, 11, 12, 13, 14]
    policy = Recorder()
    returns = rollout.rollout(CARTPOLE, policy, seeds, target_return=target, context_length=K)
    assert len(policy.contexts) == returns.max()  # one call per step while any episode runs
    history: dict[int, list[int]] = {i: [] for i in range(len(seeds))}
    for t, (context, chosen) in enumerate(zip(policy.contexts, policy.chosen, strict=True)):
        alive = np.flatnonzero(returns > t)  # episodes still running at step t, in seed order
        n, L = len(alive), min(t + 1, K)
        assert (
            context["returns_to_go"].shape == (n, L)
            and context["returns_to_go"].dtype == np.float32
        )
        assert context["states"].shape == (n, L, 4) and context["states"].dtype == np.float32
        assert context["actions"].shape == (n, L) and context["actions"].dtype == np.int32
        assert context["timesteps"].dtype == np.int32
        steps = np.arange(t - L + 1, t + 1)
        np.testing.assert_array_equal(context["timesteps"], np.tile(steps, (n, 1)))
        to_go = np.tile(target - steps, (n, 1))  # a reward of 1 per step played
        np.testing.assert_array_equal(context["returns_to_go"], to_go)
        np.testing.assert_array_equal(context["actions"][:, -1], 0)  # not taken yet
        for row, i in enumerate(alive):
            np.testing.assert_array_equal(context["actions"][row, :-1], history[i][t - L + 1 : t])
            history[i].append(int(chosen[row]))
    first = policy.contexts[0]["states"][:, 0]  # (n, S) at t = 0: the seeded start states
    starts = [gym.make(CARTPOLE).reset(seed=s)[0] for s in seeds]
    np.testing.assert_array_equal(first, np.stack(starts))


def test_markov_rollout_sees_current_states_of_running_episodes():
    seen = []

    def policy(states):
        seen.append(states.copy())
        return cart_right(states)

    returns = rollout.rollout_markov(CARTPOLE, policy, [3, 4, 5, 6])
    assert len(set(returns.tolist())) > 1  # episodes end at different steps
    for t, states in enumerate(seen):
        assert states.shape == ((returns > t).sum(), 4) and states.dtype == np.float32
    np.testing.assert_array_equal(
        rollout.rollout_markov(CARTPOLE, good, SEEDS), [500.0] * len(SEEDS)
    )
    in_context = rollout.rollout(
        CARTPOLE, lambda c: cart_right(c["states"][:, -1]), [3, 4, 5, 6], 500, 2
    )
    np.testing.assert_array_equal(in_context, returns)  # one loop for both


def test_max_steps_cuts_episodes():
    np.testing.assert_array_equal(
        rollout.rollout_markov(CARTPOLE, good, SEEDS, max_steps=25), [25.0] * 3
    )
    cut = rollout.rollout(CARTPOLE, lambda c: good(c["states"][:, -1]), [0], 500, 5, max_steps=7)
    np.testing.assert_array_equal(cut, [7.0])


def test_pendulum_actions_are_clipped_into_the_box():
    contexts = []

    def push_hard(context):
        contexts.append(context["actions"])
        return np.full((len(context["states"]), 1), 100.0)

    episode = rollout.play_episode(
        PENDULUM, push_hard, seed=0, target_return=-200.0, context_length=4
    )
    assert episode["actions"].shape == (200, 1) and episode["actions"].dtype == np.float32
    np.testing.assert_array_equal(episode["actions"], 2.0)
    assert contexts[5].shape == (1, 4, 1)
    past = contexts[5][:, :-1]  # the clipped actions, as the environment received them
    np.testing.assert_array_equal(past, 2.0)
    np.testing.assert_array_equal(contexts[5][:, -1], 0.0)
    at_bound = rollout.rollout(PENDULUM, lambda c: np.full(len(c["states"]), 2.0), [0], -200.0, 4)
    np.testing.assert_allclose(at_bound, [episode["return"]])


def test_play_episode_is_one_rollout_step_by_step():
    def policy(c):
        return cart_right(c["states"][:, -1])

    episode = rollout.play_episode(CARTPOLE, policy, seed=4, target_return=100.0, context_length=3)
    T = len(episode["rewards"])
    assert episode["states"].shape == (T, 4) and episode["actions"].shape == (T,)
    assert (
        episode["return"]
        == episode["rewards"].sum()
        == rollout.rollout(CARTPOLE, policy, [4], 100.0, 3)[0]
    )
    expected = 100.0 - np.concatenate([[0.0], np.cumsum(episode["rewards"])[:-1]])
    np.testing.assert_array_equal(episode["returns_to_go"], expected)
    np.testing.assert_array_equal(episode["actions"], cart_right(episode["states"]))


def test_policy_output_is_checked():
    with pytest.raises(ValueError, match="outside 0..1"):
        rollout.rollout_markov(CARTPOLE, lambda s: np.full(len(s), 2), [0])
    with pytest.raises(ValueError, match=r"needs \(2,\) integers"):
        rollout.rollout_markov(CARTPOLE, lambda s: np.zeros((len(s), 2), np.int64), [0, 1])
    with pytest.raises(ValueError, match="finite"):
        rollout.rollout_markov(PENDULUM, lambda s: np.full(len(s), np.nan), [0])
    with pytest.raises(ValueError, match="context_length"):
        rollout.rollout(CARTPOLE, Recorder(), [0], 500, 0)


def test_summary():
    assert rollout.summary([1.0, 2.0, 3.0]) == {
        "mean_return": 2.0,
        "std_return": pytest.approx(np.sqrt(2 / 3)),
        "episodes": 3,
    }
    with pytest.raises(ValueError):
        rollout.summary([])


def test_action_space_info():
    cartpole, pendulum = rollout.action_space_info(CARTPOLE), rollout.action_space_info(PENDULUM)
    assert cartpole == {"discrete": True, "action_dim": 2, "state_dim": 4} | {
        "action_low": None, "action_high": None, "max_episode_steps": 500
    }  # fmt: skip
    assert pendulum == {"discrete": False, "action_dim": 1, "state_dim": 3} | {
        "action_low": [-2.0], "action_high": [2.0], "max_episode_steps": 200
    }  # fmt: skip


def test_each_episode_can_ask_for_its_own_target():
    """One target per seed (a seed may repeat): each episode's returns-to-go start at its own."""
    policy = Recorder()
    targets, seeds = [40.0, 100.0, 40.0], [7, 7, 8]
    rollout.rollout(CARTPOLE, policy, seeds, target_return=targets, context_length=2)
    np.testing.assert_array_equal(policy.contexts[0]["returns_to_go"][:, 0], targets)
    np.testing.assert_array_equal(policy.contexts[0]["states"][0], policy.contexts[0]["states"][1])  # the same start
    balanced = rollout.rollout(CARTPOLE, lambda c: good(c["states"][:, -1]), [0, 0], [10.0, 500.0], 3)
    np.testing.assert_array_equal(balanced, [500.0, 500.0])  # the target conditions the policy, not the episode
    with pytest.raises(ValueError, match="one per seed"):
        rollout.rollout(CARTPOLE, policy, seeds, target_return=[40.0, 100.0], context_length=2)
