"""Transform for the decision task: returns-to-go and standardized states, per episode.

Statistics (each state dimension's mean and deviation) come from the train split only
(the pipeline's `splits_config`), and the same graph standardizes states at serving. The
context windows of K steps are cut in the Trainer (`tasks/decision/windows.py`),
because K is a hyperparameter the Tuner searches.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from tasks.decision import features
from tasks.decision.config import DecisionConfig
from tasks.decision.rollout import action_space_info

MIN_DEVIATION = 1e-6  # a state dimension that never changes is centred, not blown up


def returns_to_go(rewards: tf.SparseTensor) -> tf.Tensor:
    """Each step's undiscounted sum of the rewards from it to the episode's end.
    `rewards` (B, T) ragged as a SparseTensor -> (N,) one value per reward, in its order."""
    dense = tf.sparse.to_dense(rewards)  # (B, T_max): zero after each episode's end
    to_go = tf.math.cumsum(dense, axis=1, reverse=True)  # (B, T_max)
    return tf.gather_nd(to_go, rewards.indices)  # (N,)


def standardize_states(states: tf.SparseTensor, state_dim: int) -> tf.SparseTensor:
    """(B, T * S) step-major states -> the same layout, each dimension standardized."""
    steps = tf.reshape(states.values, [-1, state_dim])  # (N, S): every step of the batch
    mean = tft.mean(steps, reduce_instance_dims=False)  # (S,)
    deviation = tf.maximum(tf.sqrt(tft.var(steps, reduce_instance_dims=False)), MIN_DEVIATION)  # (S,)
    return tf.SparseTensor(states.indices, tf.reshape((steps - mean) / deviation, [-1]), states.dense_shape)


def transform_decision(inputs: dict, decision: DecisionConfig) -> dict:
    rewards = inputs[features.REWARDS_KEY]  # (B, T)
    return {
        features.STATES_KEY: standardize_states(inputs[features.STATES_KEY], action_space_info(decision.env_id)["state_dim"]),
        features.RETURNS_TO_GO_KEY: tf.SparseTensor(
            rewards.indices, returns_to_go(rewards) / decision.return_scale, rewards.dense_shape
        ),  # (B, T)
        features.ACTIONS_KEY: inputs[features.ACTIONS_KEY],  # (B, T * A)
        features.STEPS_KEY: inputs[features.STEPS_KEY],  # (B, T)
        features.EPISODE_RETURN_KEY: inputs[features.EPISODE_RETURN_KEY],  # (B, 1)
    }


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """TFX Transform entry point; the pipeline passes the `decision` config section."""
    return transform_decision(inputs, DecisionConfig(**custom_config["decision"]))
