"""The decision model's SavedModel: both sides of its serving contract.

The input is the recent context of up to L steps, in the environment's units:
  returns_to_go (B, L) float32: the return still wanted at each step (target minus rewards so far);
  states (B, L, S) float32; actions (B, L, A) float32 (a discrete action is one value; the
  last step's action is unknown and ignored: the model predicts it); timesteps (B, L) int32.
`serving_default` takes it as serialized tf.Examples (one context each, flat step-major lists
under the same names; the contexts of one batch have the same L), `predict_raw` as plain
tensors (JSON clients); both return the next `action` (and `logits` for discrete actions).
Longer contexts are cut to the last K steps. States are standardized by Transform's own
graph (train's statistics), returns-to-go divided by `decision.return_scale`: a client sends
nothing the pipeline computed. `behaviour_cloning` and the filtered ones
(`filtered_behaviour_cloning_10`, `_25`: %BC, tasks/decision/cloning.py) take states (B, S):
the challengers trained on the same data, kept in the SavedModel so that the gate scores them
all from one artifact. `assets.extra/decision_model.json` says what the model expects
(environment, K, targets), and the epochs kept for each model.
"""
from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components import distribution, export
from components.export import EXAMPLES_INPUT, RAW_SIGNATURE, SERVING_SIGNATURE
from models.decision_transformer import next_action
from tasks.decision import features

BEHAVIOUR_CLONING = "behaviour_cloning"  # plain cloning's signature, and its name in the gate's scores
FILTERED_PREFIX = "filtered_behaviour_cloning_"  # + percent of the episodes kept: a %BC signature
INFO_FILE = os.path.join("assets.extra", "decision_model.json")
LOGITS_KEY = "logits"  # discrete models: (B, A) action scores of the last step


def filtered_name(fraction: float) -> str:
    """The signature of %BC on the top `fraction` of episodes: 0.1 -> "filtered_behaviour_cloning_10"."""
    return f"{FILTERED_PREFIX}{round(100 * fraction)}"


def standardize(tft_layer, states: tf.Tensor, state_dim: int) -> tf.Tensor:
    """(B, L, S) raw states -> standardized by the Transform graph (as the examples were)."""
    batch, steps = tf.shape(states)[0], tf.shape(states)[1]
    flat = tf.reshape(states, [batch, steps * state_dim])  # (B, L * S): the examples' layout
    sparse = tf.SparseTensor(
        tf.where(tf.ones_like(flat, tf.bool)), tf.reshape(flat, [-1]), tf.shape(flat, out_type=tf.int64)
    )  # every value present (from_dense would drop zeros)
    standardized = tft_layer({features.STATES_KEY: sparse})[features.STATES_KEY]
    return tf.reshape(tf.sparse.to_dense(standardized), [batch, steps, state_dim])  # (B, L, S)


def context_example(context: dict) -> tf.train.Example:
    """One context (arrays of one row of `predict_raw`'s inputs) as the tf.Example `serving_default` reads."""

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(values, np.float32).reshape(-1)))

    timesteps = np.asarray(context[features.TIMESTEPS_KEY], np.int64).reshape(-1)
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                features.RETURNS_TO_GO_KEY: floats(context[features.RETURNS_TO_GO_KEY]),
                features.STATES_KEY: floats(context[features.STATES_KEY]),
                features.ACTIONS_KEY: floats(context[features.ACTIONS_KEY]),
                features.TIMESTEPS_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=timesteps)),
            }
        )
    )


def parse_contexts(examples: tf.Tensor, state_dim: int, action_values: int) -> dict:
    """(B,) serialized contexts of L steps each -> `predict_raw`'s inputs."""
    spec = {
        features.RETURNS_TO_GO_KEY: tf.io.VarLenFeature(tf.float32),
        features.STATES_KEY: tf.io.VarLenFeature(tf.float32),
        features.ACTIONS_KEY: tf.io.VarLenFeature(tf.float32),
        features.TIMESTEPS_KEY: tf.io.VarLenFeature(tf.int64),
    }
    parsed = {k: tf.sparse.to_dense(v) for k, v in tf.io.parse_example(examples, spec).items()}
    batch = tf.shape(examples)[0]
    return {
        features.RETURNS_TO_GO_KEY: parsed[features.RETURNS_TO_GO_KEY],  # (B, L)
        features.STATES_KEY: tf.reshape(parsed[features.STATES_KEY], [batch, -1, state_dim]),  # (B, L, S)
        features.ACTIONS_KEY: tf.reshape(parsed[features.ACTIONS_KEY], [batch, -1, action_values]),  # (B, L, A)
        features.TIMESTEPS_KEY: tf.cast(parsed[features.TIMESTEPS_KEY], tf.int32),  # (B, L)
    }


def export_decision_model(model, clones: dict, tf_transform_output: tft.TFTransformOutput, info: dict, export_dir: str) -> None:
    """Save the Decision Transformer and the cloning challengers (signature name -> Keras model,
    `behaviour_cloning` among them) with the signatures above."""
    if BEHAVIOUR_CLONING not in clones:
        raise ValueError(f"the cloning challengers {sorted(clones)} lack '{BEHAVIOUR_CLONING}', which the gate compares with")
    root = tf.Module()
    root.model, root.clones = model, dict(clones)
    tft_layer = export.attach_transform(root, tf_transform_output)
    state_dim, action_dim, context = info["state_dim"], info["action_dim"], info["context_length"]
    discrete, scale = info["discrete"], float(info["return_scale"])
    action_values = 1 if discrete else action_dim  # values per logged action

    def outputs(raw_action: tf.Tensor) -> dict:  # (B, A) logits or actions of the newest step
        found = {features.ACTION_KEY: next_action(raw_action, discrete)}  # (B,) or (B, A)
        return {**found, LOGITS_KEY: raw_action} if discrete else found

    @tf.function(autograph=False)
    def serve(inputs: dict) -> dict:
        recent = {k: v[:, -context:] for k, v in inputs.items()}  # the last K steps
        actions = recent[features.ACTIONS_KEY]  # (B, L, A)
        if discrete:
            actions = tf.clip_by_value(tf.cast(tf.round(actions[..., 0]), tf.int32), 0, action_dim - 1)  # (B, L)
        model_inputs = {
            features.RETURNS_TO_GO_KEY: recent[features.RETURNS_TO_GO_KEY] / scale,  # (B, L)
            features.STATES_KEY: standardize(tft_layer, recent[features.STATES_KEY], state_dim),  # (B, L, S)
            features.ACTIONS_KEY: actions,
            features.TIMESTEPS_KEY: recent[features.TIMESTEPS_KEY],  # (B, L)
            "mask": tf.ones_like(recent[features.RETURNS_TO_GO_KEY]),  # (B, L): every step is real
        }
        return outputs(root.model(model_inputs, training=False)[:, -1])

    def clone_signature(name: str):
        @tf.function(autograph=False, input_signature=[tf.TensorSpec([None, state_dim], tf.float32, name=features.STATES_KEY)])
        def clone(states):
            standardized = standardize(tft_layer, states[:, None, :], state_dim)[:, 0]  # (B, S)
            return outputs(root.clones[name](standardized, training=False))

        return clone

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve_examples(examples):
        return serve(parse_contexts(examples, state_dim, action_values))

    specs = {
        features.RETURNS_TO_GO_KEY: tf.TensorSpec([None, None], tf.float32, name=features.RETURNS_TO_GO_KEY),
        features.STATES_KEY: tf.TensorSpec([None, None, state_dim], tf.float32, name=features.STATES_KEY),
        features.ACTIONS_KEY: tf.TensorSpec([None, None, action_values], tf.float32, name=features.ACTIONS_KEY),
        features.TIMESTEPS_KEY: tf.TensorSpec([None, None], tf.int32, name=features.TIMESTEPS_KEY),
    }
    signatures = {
        SERVING_SIGNATURE: serve_examples,
        RAW_SIGNATURE: serve.get_concrete_function(specs),
        **{name: clone_signature(name) for name in clones},
    }
    with distribution.written(export_dir) as target:  # several workers: only the chief's stays
        tf.saved_model.save(root, target, signatures=signatures)
        os.makedirs(os.path.join(target, "assets.extra"), exist_ok=True)
        with open(os.path.join(target, INFO_FILE), "w") as handle:
            json.dump(info, handle, indent=2)


class ServedPolicy:
    """A pushed (or candidate) decision model, called as the rollouts call a policy."""

    def __init__(self, model_dir: str):
        with open(os.path.join(model_dir, INFO_FILE)) as handle:
            self.info = json.load(handle)
        loaded = tf.saved_model.load(model_dir)
        self._loaded = loaded  # keeps the signatures' variables alive
        self._serve = loaded.signatures[RAW_SIGNATURE]

    def _action(self, outputs: dict) -> np.ndarray:
        return outputs[features.ACTION_KEY].numpy()  # (n,) or (n, A)

    def act(self, context: dict) -> np.ndarray:
        """The Decision Transformer's next action for each context (tasks/decision/rollout.py)."""
        actions = np.asarray(context[features.ACTIONS_KEY], np.float32)
        if actions.ndim == 2:  # (n, L) discrete ids -> (n, L, 1)
            actions = actions[..., None]
        return self._action(
            self._serve(
                returns_to_go=tf.constant(context[features.RETURNS_TO_GO_KEY], tf.float32),
                states=tf.constant(context[features.STATES_KEY], tf.float32),
                actions=tf.constant(actions),
                timesteps=tf.constant(context[features.TIMESTEPS_KEY], tf.int32),
            )
        )

    def clones(self) -> list[str]:
        """The cloning challengers this SavedModel holds (their signature names)."""
        return sorted(self.info.get("cloning", {BEHAVIOUR_CLONING: {}}))

    def clone(self, states: np.ndarray, name: str = BEHAVIOUR_CLONING) -> np.ndarray:
        """The cloning challenger `name`'s action for each state (n, S); an error when it is not here."""
        if name not in self._loaded.signatures:
            raise ValueError(f"the SavedModel holds no '{name}' signature (it holds {sorted(self._loaded.signatures)})")
        return self._action(self._loaded.signatures[name](states=tf.constant(states, tf.float32)))
