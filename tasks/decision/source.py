"""Where logged trajectories come from, how a CSV becomes episodes, and how episodes are split.

A user's data is a CSV (or Parquet) of logged steps, one row per step: `episode, step,
state_0..state_{n-1}, action, reward` (`action_0..action_{m-1}` for a continuous action with
more than one dimension), as offline-RL logs are usually kept. The default is CartPole-v1
data logged by `tasks/decision/trajectory_log.py` with a seeded mix of behaviour policies; gymnasium
ships the environment, so the data is made on this machine, the same for every seed.

Nothing is dropped or repaired here: a gap in the step numbers, a non-finite value, an action
outside the action space or a one-step episode reaches the examples with a status that names
the step, and the curated schema stops the run at the AnomalyGate, naming the episode.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

import numpy as np
import pandas as pd

from data import sources
from data.splits import split_groups
from tasks.decision import trajectory_log
from tasks.decision.columns import (  # noqa: F401  (the log's columns, read here and by trajectory_log)
    ACTION_COLUMN,
    ACTION_VECTOR_COLUMN,
    EPISODE_COLUMN,
    REWARD_COLUMN,
    STATE_COLUMN,
    STEP_COLUMN,
)
from tasks.decision.config import DecisionConfig


def default_csv(decision: DecisionConfig, data_dir: str) -> pathlib.Path:
    name = f"{decision.env_id.lower()}_{decision.episodes}_episodes_seed{decision.logging_seed}.csv"
    return pathlib.Path(data_dir) / name


def prepare_default_csv(decision: DecisionConfig, data_dir: str) -> str:
    """The default data, logged into `data_dir` once per (environment, episodes, seed): it is seeded."""
    target = default_csv(decision, data_dir)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(".partial.csv")
        trajectory_log.log_trajectories(decision.env_id, decision.episodes, decision.logging_seed, str(staging))
        staging.rename(target)  # a killed run never leaves a half-written default behind
    return str(target)


def resolve_data(config) -> str:
    """The CSV or Parquet of logged steps (DATA), or the default data logged per `decision:`."""
    return sources.resolve(
        config.data, str(config.task_dir / "data"), lambda data_dir: prepare_default_csv(config.decision, data_dir),
        "a CSV or Parquet of logged steps",
    )  # fmt: skip


def numbered(columns, pattern: re.Pattern) -> list[str]:
    """Columns matching `pattern` (state_0, state_1, ...), in index order."""
    found = sorted((int(m.group(1)), c) for c in columns if (m := pattern.match(str(c))))
    return [c for _, c in found]


def state_and_action_columns(columns) -> tuple[list[str], list[str]]:
    """(state_0.., action or action_0..) as the log names them, in index order."""
    actions = [ACTION_COLUMN] if ACTION_COLUMN in columns else numbered(columns, ACTION_VECTOR_COLUMN)
    return numbered(columns, STATE_COLUMN), actions


def read_steps(path: str) -> pd.DataFrame:
    """The logged steps, with an error that names what is missing."""
    frame = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    states, actions = state_and_action_columns(frame.columns)
    missing = [c for c in (EPISODE_COLUMN, STEP_COLUMN, REWARD_COLUMN) if c not in frame.columns]
    if missing or not states or not actions:
        raise ValueError(
            f"{path}: a trajectory file needs the columns episode, step, state_0..state_n, action (or "
            f"action_0..action_m) and reward; missing {missing + ([] if states else ['state_0']) + ([] if actions else ['action'])} "
            f"(it has {list(frame.columns)[:12]})"
        )
    return frame


@dataclasses.dataclass
class Episode:
    """One logged episode, its steps in the order they were logged."""

    episode: int
    steps: np.ndarray  # (T,) int64: the logged step numbers
    states: np.ndarray  # (T, S) float32
    actions: np.ndarray  # (T, A) float32 (a discrete action is one integer-valued column)
    rewards: np.ndarray  # (T,) float32

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))


def episodes(frame: pd.DataFrame) -> list[Episode]:
    """Episodes in order of their id, each sorted by step number (gaps are kept, for validation)."""
    states, actions = state_and_action_columns(frame.columns)
    out = []
    for episode, rows in frame.sort_values([EPISODE_COLUMN, STEP_COLUMN], kind="stable").groupby(EPISODE_COLUMN, sort=True):
        out.append(
            Episode(
                episode=int(episode),
                steps=rows[STEP_COLUMN].to_numpy(np.int64),
                states=rows[states].to_numpy(np.float32),
                actions=rows[actions].to_numpy(np.float32),
                rewards=rows[REWARD_COLUMN].to_numpy(np.float32),
            )
        )
    return out


def split_episodes(count: int, fractions: list[float], seed: int) -> np.ndarray:
    """A split name per episode: a seeded permutation of whole episodes cut by `fractions`,
    so that no episode has steps in two splits."""
    return split_groups(np.arange(count), np.zeros(count), fractions, stratify=False, seed=seed)
