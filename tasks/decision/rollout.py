"""Acting in a gymnasium environment with a policy, over a batch of seeded episodes.

An offline-RL model is judged by what it does, not by its loss: the returns of episodes it
plays. Episodes run in lockstep, one environment per seed (`env.reset(seed=s)`), so that a
model is called once per step for every episode still running rather than once per episode
and step. The policy is any callable, so the same loop scores the Decision Transformer (a
context of returns-to-go, states, actions and timesteps; `rollout`), the behaviour-cloning
baseline (the current states; `rollout_markov`) and a heuristic in the tests. Plain numpy and
gymnasium: nothing here knows about Keras or TFX.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from tasks.decision.features import ACTIONS_KEY, RETURNS_TO_GO_KEY, STATES_KEY, TIMESTEPS_KEY


def _space_info(env, env_id: str) -> dict:
    from gymnasium import spaces

    action, observation = env.action_space, env.observation_space
    if not isinstance(observation, spaces.Box | spaces.Discrete):
        raise ValueError(f"{env_id}: observation space {observation} is not a Box or Discrete")
    info = {
        "state_dim": int(np.prod(observation.shape)),
        "max_episode_steps": env.spec.max_episode_steps,
    }
    if isinstance(action, spaces.Discrete):
        if action.start != 0:
            raise ValueError(
                f"{env_id}: action space {action} starts at {action.start}; only Discrete from 0 is supported"
            )
        return {
            "discrete": True,
            "action_dim": int(action.n),
            "action_low": None,
            "action_high": None,
            **info,
        }
    if isinstance(action, spaces.Box) and len(action.shape) == 1:
        low, high = action.low.astype(float).tolist(), action.high.astype(float).tolist()
        return {
            "discrete": False,
            "action_dim": int(action.shape[0]),
            "action_low": low,
            "action_high": high,
            **info,
        }
    raise ValueError(f"{env_id}: action space {action} is not Discrete or a 1-D Box")


def action_space_info(env_id: str) -> dict:
    """What a policy for `env_id` reads and returns: {"discrete", "action_dim" (n of a Discrete,
    the size of a Box), "state_dim" (flattened observation), "action_low"/"action_high" (lists,
    None for Discrete), "max_episode_steps" (None when the environment has no limit)}."""
    import gymnasium as gym

    env = gym.make(env_id)
    try:
        return _space_info(env, env_id)
    finally:
        env.close()


@dataclasses.dataclass
class _Record:
    """Episodes played in lockstep, row i for seed i, padded with zeros after each one ends."""

    states: np.ndarray  # (n, T, S) float32: the observation before each step
    actions: np.ndarray  # (n, T) int32 (Discrete) or (n, T, A) float32 (Box, clipped)
    rewards: np.ndarray  # (n, T) float64
    returns_to_go: np.ndarray  # (n, T) float32: target minus the rewards before each step
    lengths: np.ndarray  # (n,) steps played
    returns: np.ndarray  # (n,) float64: each episode's total reward


def _checked_actions(raw, n: int, info: dict) -> np.ndarray:
    """The policy's output as (n,) int64 or (n, A) float32 in the action space, or an error
    that says what the policy should return."""
    actions = np.asarray(raw)
    if info["discrete"]:
        if actions.shape != (n,) or not (
            actions.dtype.kind in "biu" or np.array_equal(actions, np.round(actions))
        ):
            raise ValueError(
                f"the policy returned {actions.dtype} {actions.shape}; a Discrete action needs ({n},) integers"
            )
        actions = actions.astype(np.int64)
        if actions.min() < 0 or actions.max() >= info["action_dim"]:
            raise ValueError(
                f"the policy returned actions {actions.tolist()} outside 0..{info['action_dim'] - 1}"
            )
        return actions
    dim = info["action_dim"]
    if actions.shape == (n,) and dim == 1:
        actions = actions[:, None]
    if actions.shape != (n, dim) or not np.isfinite(actions).all():
        raise ValueError(
            f"the policy returned {actions.shape} (finite: {np.isfinite(actions).all()}); needs finite ({n}, {dim})"
        )
    return np.clip(actions, info["action_low"], info["action_high"]).astype(np.float32)


def _targets(target_return: float | Sequence[float], n: int) -> np.ndarray:
    """(n,) float64 targets: one for every episode, or one per episode."""
    targets = np.asarray(target_return, np.float64)
    if targets.ndim == 0:
        return np.full(n, float(targets))
    if targets.shape != (n,):
        raise ValueError(f"target_return has {targets.shape} values; give one, or one per seed ({n})")
    return targets.copy()


def _play(
    env_id: str,
    seeds: Sequence[int],
    choose: Callable,
    max_steps: int | None,
    target_return: float | Sequence[float] = 0.0,
) -> _Record:
    """Play one episode per seed in lockstep; `choose(record, alive, t)` returns the actions
    of the episodes `alive` (indices into seeds, ascending) at step t. `target_return`: one
    for all episodes, or one per seed (a seed may repeat, asked for other targets)."""
    import gymnasium as gym

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: pass at least one episode seed")
    to_go = _targets(target_return, len(seeds))  # float64: rewards are subtracted without rounding
    envs = [gym.make(env_id) for _ in seeds]
    try:
        info = _space_info(envs[0], env_id)
        steps = info["max_episode_steps"] if max_steps is None else max_steps
        if steps is None or steps < 1:
            raise ValueError(
                f"max_steps ({steps}) must be >= 1 ({env_id}'s spec.max_episode_steps when None)"
            )
        n, discrete = len(seeds), info["discrete"]
        record = _Record(
            states=np.zeros((n, steps, info["state_dim"]), np.float32),
            actions=np.zeros(
                (n, steps) if discrete else (n, steps, info["action_dim"]),
                np.int32 if discrete else np.float32,
            ),
            rewards=np.zeros((n, steps)),
            returns_to_go=np.zeros((n, steps), np.float32),
            lengths=np.zeros(n, np.int64),
            returns=np.zeros(n),
        )
        observations = [env.reset(seed=seed)[0] for env, seed in zip(envs, seeds, strict=True)]
        alive = np.arange(n)
        for t in range(steps):
            record.states[alive, t] = [
                np.asarray(observations[i], np.float32).ravel() for i in alive
            ]
            record.returns_to_go[alive, t] = to_go[alive]
            actions = _checked_actions(choose(record, alive, t), len(alive), info)
            record.actions[alive, t] = actions
            ended = []
            for i, action in zip(alive, actions, strict=True):
                observations[i], reward, terminated, truncated, _ = envs[i].step(
                    int(action) if discrete else action
                )
                record.rewards[i, t] = reward
                record.returns[i] += reward
                to_go[i] -= reward
                record.lengths[i] = t + 1
                if terminated or truncated:
                    ended.append(i)
            alive = np.setdiff1d(alive, ended)
            if not alive.size:
                break
    finally:
        for env in envs:
            env.close()
    return record


def _context(record: _Record, alive: np.ndarray, t: int, context_length: int) -> dict:
    """The last L = min(t + 1, K) steps of the episodes `alive`, as the Decision Transformer
    reads them. The action at step t is not taken yet: 0 there (the causal mask hides it)."""
    start = max(0, t + 1 - context_length)
    actions = record.actions[alive, start : t + 1]  # (n, L) or (n, L, A); a copy (fancy index)
    actions[:, -1] = 0
    timesteps = np.arange(start, t + 1, dtype=np.int32)  # (L,)
    return {
        RETURNS_TO_GO_KEY: record.returns_to_go[alive, start : t + 1],  # (n, L) float32
        STATES_KEY: record.states[alive, start : t + 1],  # (n, L, S) float32
        ACTIONS_KEY: actions,
        TIMESTEPS_KEY: np.tile(timesteps, (len(alive), 1)),  # (n, L) int32
    }


def _play_in_context(env_id, policy, seeds, target_return, context_length, max_steps) -> _Record:
    if context_length < 1:
        raise ValueError(f"context_length ({context_length}) must be >= 1")

    def choose(record: _Record, alive: np.ndarray, t: int):
        return policy(_context(record, alive, t, context_length))

    return _play(env_id, seeds, choose, max_steps, target_return)


def rollout(
    env_id: str,
    policy: Callable[[dict], np.ndarray],
    seeds: Sequence[int],
    target_return: float | Sequence[float],
    context_length: int,
    max_steps: int | None = None,
) -> np.ndarray:
    """Each seed's episode return (n,) when `policy` acts conditioned on `target_return` (one
    for all, or one per seed: episodes asked for several targets share every model call).

    At step t, `policy` gets the context of the episodes still running (n shrinks as episodes
    end): {"returns_to_go": (n, L) float32, "states": (n, L, S) float32, "actions": (n, L) int32
    (Discrete) or (n, L, A) float32 (Box), "timesteps": (n, L) int32}, the last L = min(t + 1,
    context_length) steps; returns-to-go start at `target_return` and drop by each reward
    received, and the action at the last position is 0 (unknown). It returns (n,) actions, or
    (n, A); continuous actions are clipped into the action space. `max_steps` defaults to the
    environment's `spec.max_episode_steps`.
    """
    return _play_in_context(env_id, policy, seeds, target_return, context_length, max_steps).returns


def rollout_markov(
    env_id: str,
    policy: Callable[[np.ndarray], np.ndarray],
    seeds: Sequence[int],
    max_steps: int | None = None,
) -> np.ndarray:
    """Each seed's episode return (n,) when `policy(states (n, S) float32) -> actions` acts on
    the current states alone (the behaviour-cloning baseline); batched as `rollout`."""
    return _play(
        env_id, seeds, lambda record, alive, t: policy(record.states[alive, t]), max_steps
    ).returns


def play_episode(
    env_id: str,
    policy: Callable[[dict], np.ndarray],
    seed: int,
    target_return: float,
    context_length: int,
    max_steps: int | None = None,
) -> dict:
    """One episode as `rollout` plays it, step by step (for a per-step plot): {"states" (T, S),
    "actions" (T,) or (T, A) as the environment received them, "rewards" (T,), "returns_to_go"
    (T,) as the policy was conditioned, "return" (the total)}."""
    record = _play_in_context(env_id, policy, [seed], target_return, context_length, max_steps)
    steps = int(record.lengths[0])
    return {
        "states": record.states[0, :steps],
        "actions": record.actions[0, :steps],
        "rewards": record.rewards[0, :steps],
        "returns_to_go": record.returns_to_go[0, :steps],
        "return": float(record.returns[0]),
    }


def summary(returns) -> dict:
    """{"mean_return", "std_return" (population: ddof 0), "episodes"} of episode returns."""
    values = np.asarray(returns, np.float64).ravel()
    if not values.size:
        raise ValueError("summary needs at least one episode return")
    return {
        "mean_return": float(values.mean()),
        "std_return": float(values.std()),
        "episodes": int(values.size),
    }
