"""Context windows of K steps, cut from transformed episodes, for the Decision Transformer.

One window ends at every step of every episode, left-padded where the episode is younger
than K, with a mask of its real steps. K is a hyperparameter (the Tuner searches it), so
windows are cut here, in the Trainer, from Transform's per-episode output.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from tasks.decision import features


@dataclasses.dataclass
class Episodes:
    """Transformed episodes as lists of per-step arrays (episode i has T_i steps)."""

    returns_to_go: list[np.ndarray]  # (T_i,) scaled
    states: list[np.ndarray]  # (T_i, S) standardized
    actions: list[np.ndarray]  # (T_i, A) float
    timesteps: list[np.ndarray]  # (T_i,) int
    episode_returns: np.ndarray  # (E,) the logged returns

    def __len__(self) -> int:
        return len(self.timesteps)

    @property
    def steps(self) -> int:
        return int(sum(len(t) for t in self.timesteps))


def read_episodes(files: list[str], tf_transform_output: tft.TFTransformOutput, state_dim: int, action_dim: int) -> Episodes:
    """Every transformed episode in `files` (gzipped TFRecords or their glob patterns), in file order."""
    spec = tf_transform_output.transformed_feature_spec()
    paths = sorted(path for pattern in files for path in tf.io.gfile.glob(pattern))

    def parse(record):  # variable-length features arrive sparse: keep their values (dense, fast to read)
        parsed = tf.io.parse_single_example(record, spec)
        return {k: v.values if isinstance(v, tf.SparseTensor) else v for k, v in parsed.items()}

    dataset = tf.data.TFRecordDataset(paths, compression_type="GZIP").map(parse)
    parts: dict[str, list] = {k: [] for k in ("returns_to_go", "states", "actions", "timesteps", "episode_returns")}
    for values in dataset.as_numpy_iterator():
        parts["returns_to_go"].append(values[features.RETURNS_TO_GO_KEY].astype(np.float32))
        parts["states"].append(values[features.STATES_KEY].reshape(-1, state_dim).astype(np.float32))
        parts["actions"].append(values[features.ACTIONS_KEY].reshape(-1, action_dim).astype(np.float32))
        parts["timesteps"].append(values[features.STEPS_KEY].astype(np.int32))
        parts["episode_returns"].append(float(np.ravel(values[features.EPISODE_RETURN_KEY])[0]))
    parts["episode_returns"] = np.asarray(parts["episode_returns"], np.float32)
    return Episodes(**parts)


def context_windows(episodes: Episodes, context_length: int, discrete: bool, num_actions: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """(inputs, target actions, mask): one window of `context_length` (K) steps ending at each step.

    inputs: returns_to_go (N, K), states (N, K, S), actions (N, K) int32 with `num_actions` on
    padding (discrete) or (N, K, A) float32 (continuous), timesteps (N, K), mask (N, K);
    targets: (N, K) int32 (0 on padding) or (N, K, A); mask (N, K) 1.0 on real steps.
    """
    K = context_length
    offsets = np.arange(-K + 1, 1)  # (K,): positions relative to the window's last step
    out = {k: [] for k in ("returns_to_go", "states", "actions", "timesteps", "mask")}
    for rtg, states, actions, timesteps in zip(
        episodes.returns_to_go, episodes.states, episodes.actions, episodes.timesteps, strict=True
    ):
        index = np.arange(len(rtg))[:, None] + offsets[None, :]  # (T, K): step of each window position
        real = index >= 0  # (T, K)
        safe = np.maximum(index, 0)
        out["returns_to_go"].append(np.where(real, rtg[safe], 0.0))
        out["states"].append(np.where(real[..., None], states[safe], 0.0))
        out["actions"].append(np.where(real[..., None], actions[safe], 0.0))
        out["timesteps"].append(np.where(real, timesteps[safe], 0))
        out["mask"].append(real.astype(np.float32))
    inputs = {k: np.concatenate(v) for k, v in out.items()}
    inputs["returns_to_go"] = inputs["returns_to_go"].astype(np.float32)
    inputs["states"] = inputs["states"].astype(np.float32)
    inputs["timesteps"] = inputs["timesteps"].astype(np.int32)
    mask = inputs["mask"]
    actions = inputs["actions"].astype(np.float32)  # (N, K, A)
    if discrete:
        ids = np.rint(actions[..., 0]).astype(np.int32)  # (N, K)
        targets = np.where(mask > 0, ids, 0).astype(np.int32)
        inputs["actions"] = np.where(mask > 0, ids, num_actions).astype(np.int32)  # the padding id
    else:
        targets = actions
        inputs["actions"] = actions
    return inputs, targets, mask
