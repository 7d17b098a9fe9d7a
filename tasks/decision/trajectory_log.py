"""Offline trajectories logged from a gymnasium environment, the way offline-RL data sets are built.

An offline-RL data set is what some behaviour policies did, recorded without the policies:
one row per step of `episode, step, state_0..state_{n-1}, action, reward` (a continuous
action of m > 1 dimensions is `action_0..action_{m-1}`). That is the CSV a user brings, and
this module writes one. A Decision Transformer learns from such a log to act at a chosen
return, so the log must mix good and poor behaviour: each episode draws its behaviour
policy from a seeded mix, and everything (the mix, the policies' noise, the environment's
start states) comes from the seed, so the same seed writes the same file.

CartPole-v1 (the default data) and Pendulum-v1 (the continuous benchmark) have hand-made
mixes, kept exactly as they were measured (see `CARTPOLE_MIX` and `PENDULUM_MIX`: changing
one changes the data set and the figures quoted for it). Any other environment id is
logged with a uniformly random policy, so a user can still produce a file of the right shape.

    python -m tasks.decision.trajectory_log --env CartPole-v1 --episodes 300 --seed 0 --out cartpole.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tasks.decision.columns import ACTION_COLUMN, EPISODE_COLUMN, REWARD_COLUMN, STEP_COLUMN

# env.reset(seed=seed * EPISODE_SEED_STRIDE + episode): logs of different seeds never share
# an episode's start state (below 100000 episodes per log).
EPISODE_SEED_STRIDE = 100_000

# CartPole-v1: 300 episodes of seed 0 average a return of ~196 (of 500); on them a Decision
# Transformer reaches 500 while behaviour cloning reaches ~250, because the largest share is
# a systematically miscalibrated controller that copying states -> actions absorbs.
CARTPOLE_VELOCITY_WEIGHT = 0.5  # push right when pole angle + 0.5 * angular velocity > threshold
# miscalibrated: per episode, the threshold ~ U[low, high] (0 is well calibrated) ...
MISCALIBRATED_THRESHOLD = (0.03, 0.15)
# ... and the chance of a random action at each step ~ U[low, high]
MISCALIBRATED_RANDOM_SHARE = (0.0, 0.3)

# Pendulum-v1: 300 episodes of seed 0 average a return of ~-699 (0 is the best possible).
PENDULUM_MAX_TORQUE = 2.0  # Pendulum-v1's action bound
PENDULUM_UPRIGHT_COS = 0.85  # above this cos(angle) the controller holds, below it swings up
PENDULUM_PD_GAINS = (10.0, 2.0)  # hold: torque = -10 * angle - 2 * angular velocity
PENDULUM_ENERGY_SCALE = 15.0  # swing-up energy: 0.5 * velocity**2 / 15 + (cos - 1), 0 upright
# noisy: per episode, the chance of a random torque at each step ~ U[low, high]
PENDULUM_NOISY_RANDOM_SHARE = (0.3, 1.0)


def state_columns(state_dim: int) -> list[str]:
    """`state_0..`: the names `tasks/decision/source.py` reads (its STATE_COLUMN pattern)."""
    return [f"state_{i}" for i in range(state_dim)]


def action_columns(action_dim: int) -> list[str]:
    """`action` for a Discrete action or a Box of one dimension; `action_0..` for a wider Box
    (`tasks/decision/source.py`'s ACTION_VECTOR_COLUMN pattern)."""
    return [ACTION_COLUMN] if action_dim == 1 else [f"action_{i}" for i in range(action_dim)]


# A behaviour policy for one episode: (kind, the log's rng, the action space) ->
# (observation -> action, the episode's parameters for the metadata).
Behaviour = Callable[[str, np.random.Generator, Any], tuple[Callable[[np.ndarray], Any], dict]]


@dataclasses.dataclass(frozen=True)
class BehaviourMix:
    """Which policy kinds an environment's log mixes, how often, and how each one acts."""

    kinds: tuple[str, ...]  # policy kinds, drawn once per episode
    probabilities: tuple[float, ...]  # each kind's share of the episodes
    behaviour: Behaviour  # makes an episode's policy; draws its parameters from the rng


def cartpole_push(obs: np.ndarray, threshold: float) -> int:
    """Push right (1) when the pole leans and swings right past `threshold`, else left (0)."""
    return int(obs[2] + CARTPOLE_VELOCITY_WEIGHT * obs[3] > threshold)


def _cartpole_behaviour(kind: str, rng: np.random.Generator, space) -> tuple[Callable, dict]:
    """random: uniform actions; good: the calibrated push; miscalibrated: a per-episode
    threshold and a per-episode share of random actions. Every kind draws one uniform per
    step, so the rng's call order (and with it the measured data set) stays as recorded."""
    if kind == "miscalibrated":
        random_share = rng.uniform(*MISCALIBRATED_RANDOM_SHARE)
        threshold = rng.uniform(*MISCALIBRATED_THRESHOLD)
    else:
        random_share, threshold = (1.0 if kind == "random" else 0.0), 0.0

    def act(obs):
        if rng.random() < random_share:
            return int(rng.integers(space.n))
        return cartpole_push(obs, threshold)

    return act, {"random_share": random_share, "threshold": threshold}


def pendulum_torque(obs: np.ndarray) -> float:
    """Swing up by pumping energy in the direction of motion, then hold upright (PD)."""
    cos, sin, velocity = obs
    angle = np.arctan2(sin, cos)
    if cos > PENDULUM_UPRIGHT_COS:
        torque = -PENDULUM_PD_GAINS[0] * angle - PENDULUM_PD_GAINS[1] * velocity
    else:
        energy = 0.5 * velocity**2 / PENDULUM_ENERGY_SCALE + (cos - 1.0)
        torque = PENDULUM_MAX_TORQUE * np.sign(velocity) if energy < 0 else 0.0
    return float(np.clip(torque, -PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE))


def _pendulum_behaviour(kind: str, rng: np.random.Generator, space) -> tuple[Callable, dict]:
    """random: uniform torques; good: `pendulum_torque`; noisy: that with a per-episode share
    of uniform torques. One uniform per step for every kind (the recorded rng call order)."""
    del space  # Pendulum-v1's bound is PENDULUM_MAX_TORQUE
    random_share = {"random": 1.0, "good": 0.0}.get(kind)
    if random_share is None:
        random_share = rng.uniform(*PENDULUM_NOISY_RANDOM_SHARE)

    def act(obs):
        if rng.random() < random_share:
            return rng.uniform(-PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE)
        return pendulum_torque(obs)

    return act, {"random_share": random_share}


def _random_behaviour(kind: str, rng: np.random.Generator, space) -> tuple[Callable, dict]:
    """Uniform actions: a Discrete action's values, or anywhere in a bounded Box."""
    del kind
    if hasattr(space, "n"):
        return (lambda obs: int(space.start + rng.integers(space.n))), {}
    return (lambda obs: rng.uniform(space.low, space.high)), {}


CARTPOLE_MIX = BehaviourMix(
    ("random", "miscalibrated", "good"), (0.20, 0.65, 0.15), _cartpole_behaviour
)
PENDULUM_MIX = BehaviourMix(("random", "noisy", "good"), (0.3, 0.5, 0.2), _pendulum_behaviour)
RANDOM_MIX = BehaviourMix(("random",), (1.0,), _random_behaviour)
MIXES = {"CartPole-v1": CARTPOLE_MIX, "Pendulum-v1": PENDULUM_MIX}  # any other env: RANDOM_MIX


def behaviour_mix(env_id: str) -> BehaviourMix:
    """The hand-made mix of `env_id`, or a uniformly random policy for any other environment."""
    return MIXES.get(env_id, RANDOM_MIX)


def _checked_spaces(env, env_id: str) -> tuple[int, int]:
    """(state_dim, action_dim); only what a CSV row holds: a Discrete action or a bounded
    1-D Box one, and a Box or Discrete observation (flattened into state columns)."""
    from gymnasium import spaces

    action, observation = env.action_space, env.observation_space
    if isinstance(action, spaces.Discrete):
        action_dim = 1
    elif isinstance(action, spaces.Box) and len(action.shape) == 1 and action.is_bounded("both"):
        action_dim = action.shape[0]
    else:
        raise ValueError(
            f"{env_id}: action space {action} is not Discrete or a bounded 1-D Box; it cannot be logged"
        )
    if not isinstance(observation, spaces.Box | spaces.Discrete):
        raise ValueError(
            f"{env_id}: observation space {observation} is not a Box or Discrete; it cannot be logged"
        )
    return int(np.prod(observation.shape)), action_dim


def collect(env_id: str, episodes: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per step, one row per episode: its policy kind, parameters, return and steps).

    Episodes run one after another; the kinds are drawn first, then each episode draws its
    parameters and its per-step noise from the same `default_rng(seed)`, in that order.
    """
    import gymnasium as gym

    if episodes < 1:
        raise ValueError(f"episodes ({episodes}) must be >= 1")
    mix = behaviour_mix(env_id)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    try:
        state_dim, action_dim = _checked_spaces(env, env_id)
        discrete = hasattr(env.action_space, "n")
        kinds = rng.choice(list(mix.kinds), size=episodes, p=list(mix.probabilities))
        rows, meta = [], []
        for episode in range(episodes):
            act, parameters = mix.behaviour(str(kinds[episode]), rng, env.action_space)
            obs, _ = env.reset(seed=seed * EPISODE_SEED_STRIDE + episode)
            step, total, done = 0, 0.0, False
            while not done:
                action = act(obs)
                if discrete:
                    env_action, logged = int(action), [int(action)]
                else:
                    env_action = np.atleast_1d(np.asarray(action, np.float64))
                    logged = [float(x) for x in env_action]
                next_obs, reward, terminated, truncated, _ = env.step(env_action)
                state = np.asarray(obs, np.float64).ravel()
                rows.append((episode, step, *state.tolist(), *logged, float(reward)))
                obs, step, total, done = next_obs, step + 1, total + reward, terminated or truncated
            meta.append(
                {
                    EPISODE_COLUMN: episode,
                    "policy": str(kinds[episode]),
                    **parameters,
                    "return": total,
                    "steps": step,
                }
            )
    finally:
        env.close()
    columns = [
        EPISODE_COLUMN,
        STEP_COLUMN,
        *state_columns(state_dim),
        *action_columns(action_dim),
        REWARD_COLUMN,
    ]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(meta)


def write_csv(frame: pd.DataFrame, path: str) -> None:
    """The log as the CSV a user has (no index column); a local folder is created if missing."""
    if "://" not in path:
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def log_trajectories(env_id: str, episodes: int, seed: int, path: str) -> pd.DataFrame:
    """Log `episodes` seeded episodes of `env_id` (see `collect`); write them as a CSV at `path`."""
    frame, _ = collect(env_id, episodes, seed)
    write_csv(frame, path)
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="CartPole-v1", help="a gymnasium environment id")
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the CSV to write")
    args = parser.parse_args(argv)
    try:
        frame, episodes = collect(args.env, args.episodes, args.seed)
    except ValueError as error:
        print(f"decision logging: {error}", file=sys.stderr)
        return 2
    write_csv(frame, args.out)
    returns = episodes["return"]
    print(
        f"{args.out}: {len(episodes)} episodes, {len(frame)} steps of {args.env} (seed {args.seed})"
    )
    print(f"return: mean {returns.mean():.1f}, max {returns.max():.1f}")
    print(episodes.groupby("policy")["return"].agg(["count", "mean", "max"]).round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
