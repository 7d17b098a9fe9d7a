"""The decision writer: a CSV of logged steps -> one tf.Example per episode, split by episode.

Each example carries the episode's id, its step numbers, states, actions and rewards (flat,
step-major), its length and return, and `trajectory_status`: "ok" or the first problem found
with the step it is at: a gap in the step numbers, a non-finite state or reward, an action
outside the environment's action space, or an episode of one step. The action space is the
environment's own (`decision.env_id`), so the check and the rollouts cannot disagree.

Nothing is dropped here: the curated schema (`tasks/decision/schema.pbtxt`) stops the run at
the AnomalyGate, which names the episode. Whole episodes go to train, eval or test, never
single steps: a model is never judged on an episode it saw part of.
"""

import json

import numpy as np

from components import examples_io
from components.example_gen import Written
from data.config import PipelineConfig
from data.splits import SPLITS
from tasks.decision import features
from tasks.decision import source as decision_source
from tasks.decision.config import DecisionConfig
from tasks.decision.rollout import action_space_info


def space_text(space: dict) -> str:
    if space["discrete"]:
        return f"Discrete({space['action_dim']})"
    return f"Box({space['action_low']}, {space['action_high']})"


def trajectory_status(episode: decision_source.Episode, space: dict) -> str:
    """TRAJECTORY_OK, or the first problem of the episode and the step it is at."""
    steps = episode.steps
    if len(steps) < 2:
        return "one step only: an episode needs at least two"
    jumps = np.flatnonzero(np.diff(steps) != 1)
    if len(jumps):
        i = jumps[0]
        return f"step {steps[i + 1]} follows step {steps[i]} (a gap or a repeat in the step numbers)"
    for name, values in (("state", episode.states), ("reward", episode.rewards[:, None]), ("action", episode.actions)):
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if len(bad):
            return f"{name} is not finite at step {steps[bad[0]]}"
    actions = episode.actions
    if space["discrete"]:
        outside = (actions[:, 0] != np.round(actions[:, 0])) | (actions[:, 0] < 0) | (actions[:, 0] >= space["action_dim"])
    else:
        low, high = np.asarray(space["action_low"]), np.asarray(space["action_high"])
        outside = ((actions < low) | (actions > high)).any(axis=1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        return f"action {actions[i].tolist()} at step {steps[i]} is outside {space_text(space)}"
    return features.TRAJECTORY_OK


def episode_features(episode: decision_source.Episode, status: str) -> dict:
    """An episode example's features: its steps, states, actions and rewards, flattened step-major."""
    return {
        features.EPISODE_KEY: int(episode.episode),
        features.STEPS_KEY: np.asarray(episode.steps, np.int64),
        features.STATES_KEY: np.asarray(episode.states, np.float32),
        features.ACTIONS_KEY: np.asarray(episode.actions, np.float32),
        features.REWARDS_KEY: np.asarray(episode.rewards, np.float32),
        features.EPISODE_LENGTH_KEY: len(episode.steps),
        features.EPISODE_RETURN_KEY: np.float32(np.nan_to_num(episode.episode_return)),
        features.TRAJECTORY_STATUS_KEY: status,
    }


def check_dimensions(frame, space: dict, env_id: str, path: str) -> None:
    """The CSV's state and action columns must be the environment's: anything else is the wrong config."""
    states, actions = decision_source.state_and_action_columns(frame.columns)
    action_dim = len(actions)
    want = 1 if space["discrete"] else space["action_dim"]
    if len(states) != space["state_dim"] or action_dim != want:
        raise ValueError(
            f"{path}: {len(states)} state and {action_dim} action column(s), but {env_id} has {space['state_dim']} "
            f"state value(s) and {want} action value(s): set decision.env_id to the environment the data was logged in"
        )


def write_splits(csv_path: str, decision: DecisionConfig, seed: int, output_uri: str) -> tuple[dict, dict]:
    """One gzipped TFRecord file per split under `output_uri`; returns (episodes per split,
    statistics of the episodes' returns per split that has episodes)."""
    space = action_space_info(decision.env_id)
    frame = decision_source.read_steps(csv_path)
    check_dimensions(frame, space, decision.env_id, csv_path)
    episodes = decision_source.episodes(frame)
    splits = decision_source.split_episodes(len(episodes), decision.split_fractions, seed)
    counts, returns = {}, {}
    for split in SPLITS:
        chosen = [e for e, s in zip(episodes, splits, strict=True) if s == split]
        counts[split] = examples_io.write_split(output_uri, split, (examples_io.to_tf_example(episode_features(e, trajectory_status(e, space))) for e in chosen))
        if chosen:  # an empty split has no returns (a 0 there would pass for the best of negative ones)
            values = np.array([e.episode_return for e in chosen])
            returns[split] = {"mean_return": float(np.mean(values)), "max_return": float(np.max(values))}
    return counts, returns


def write_examples(config: PipelineConfig, csv_path: str, output_uri: str) -> Written:
    counts, returns = write_splits(csv_path, config.decision, config.seed, output_uri)
    return Written(  # the gate acts on seeds of its own (rollout_evaluator.py): no gate split of eval episodes
        counts, "episodes", {"episode_returns": json.dumps(returns)}, f"Split by episode; returns {returns}.", gate_split=False
    )
