"""The cloning challengers: behaviour cloning on every logged episode, and filtered behaviour
cloning (%BC) on the best ones, each with its epochs chosen on the eval split.

Plain cloning imitates the random episodes as faithfully as the good ones; %BC, the baseline
the Decision Transformer paper measures against (Chen et al., 2021, "%BC"), imitates only the
top 10 % or 25 % of episodes by return, which is what a user without a Decision Transformer
would do first. Both are tuned as the Decision Transformer is: the epoch with the lowest loss
on eval is kept (`components.training.KeepBest`; epoch 0 is the untrained start), on the eval
episodes the clone imitates (for %BC, the same top fraction of the eval split). Which of the
two %BC variants the gate compares with is chosen by acting, on seeds the gate does not use
(tasks/decision/rollout_evaluator.py).
"""
from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from components.training import KeepBest, build_training_state, without_autotune
from models.behaviour_cloning import build_behaviour_cloning
from tasks.decision.serving import BEHAVIOUR_CLONING, filtered_name
from tasks.decision.windows import Episodes

FILTER_FRACTIONS = (0.10, 0.25)  # %BC's fractions of episodes kept, as in the Decision Transformer paper
# Upper bound: KeepBest usually ends sooner. On the default data the eval losses fall slowly
# for long (plain cloning's lowest at epoch 62 to 100, %BC-10's, a deterministic controller,
# still falling at 300): 100 bounds the Trainer's time (README, "Cloning's epochs").
EPOCHS = 100
PATIENCE = 10  # epochs without a lower eval loss before stopping
BATCH = 256


def top_episodes(episodes: Episodes, fraction: float) -> Episodes:
    """The ceil(`fraction` x E) episodes of highest logged return (at least one), in their order;
    ties at the cut go to the earlier episode."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction ({fraction}) must be in (0, 1]")
    count = max(1, math.ceil(fraction * len(episodes)))
    ranked = np.argsort(-np.asarray(episodes.episode_returns, np.float64), kind="stable")  # best first
    kept = np.sort(ranked[:count])
    pick = lambda values: [values[i] for i in kept]  # noqa: E731
    return Episodes(
        returns_to_go=pick(episodes.returns_to_go),
        states=pick(episodes.states),
        actions=pick(episodes.actions),
        timesteps=pick(episodes.timesteps),
        episode_returns=np.asarray(episodes.episode_returns)[kept],
    )


def step_pairs(episodes: Episodes, discrete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every (standardized state (N, S), logged action: (N,) int32 ids or (N, A) float32) pair."""
    states = np.concatenate(episodes.states)  # (N, S)
    actions = np.concatenate(episodes.actions)  # (N, A)
    return states, (np.rint(actions[:, 0]).astype(np.int32) if discrete else actions)


def step_batches(x: np.ndarray, y: np.ndarray, seed: int | None = None) -> tf.data.Dataset:
    """The (state, action) pairs in batches of BATCH (the last one smaller); with `seed`, in a
    new seeded order at every pass (each of Keras's epochs makes a new iterator).

    A dataset, not arrays: Keras makes two iterators an epoch of what it trains on and two of
    eval, and from arrays each one instantiates Keras's own pipeline of shuffle, gather and
    map functions, about 40 ms; on the default data that was most of the time of %BC's short
    epochs. An iterator of this one took about a third of that: a pass draws one number from
    a seeded stream, shuffles the indices at once by it, and gathers each batch with one op."""
    count = len(x)
    x, y = tf.constant(x), tf.constant(y)
    if seed is None:
        order = tf.data.Dataset.from_tensors(tf.range(count, dtype=tf.int64))
    else:
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
        order = draws.map(lambda draw: tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), draw])))  # fmt: skip
    batches = order.flat_map(lambda indices: tf.data.Dataset.from_tensor_slices(indices).batch(BATCH))
    return without_autotune(batches.map(lambda index: (tf.gather(x, index), tf.gather(y, index))))


@dataclasses.dataclass
class Clone:
    """One fitted cloning challenger and what the SavedModel's info says of it."""

    model: keras.Model
    fraction: float  # of the train episodes imitated (1.0: plain behaviour cloning)
    episodes: int  # train episodes imitated
    min_return: float  # the lowest logged return among them
    kept_epoch: int  # KeepBest's epoch on eval (0: the untrained start)

    def info(self) -> dict:
        return {"fraction": self.fraction, "episodes": self.episodes, "min_return": self.min_return, "kept_epoch": self.kept_epoch}


def fit_clone(train: Episodes, evaluation: Episodes, space: dict, seed: int, fraction: float = 1.0) -> Clone:
    """Cloning of the top `fraction` of train's episodes, the epoch of lowest loss on the same
    top fraction of eval's kept."""
    keras.utils.set_random_seed(seed)
    train, evaluation = top_episodes(train, fraction), top_episodes(evaluation, fraction)
    x, y = step_pairs(train, space["discrete"])
    x_eval, y_eval = step_pairs(evaluation, space["discrete"])
    model = build_behaviour_cloning(
        space["state_dim"], space["action_dim"], space["discrete"], space["action_low"], space["action_high"]
    )
    build_training_state(model, (x[:BATCH], y[:BATCH]))
    eval_batches = step_batches(x_eval, y_eval)
    initial = model.evaluate(eval_batches, verbose=0, return_dict=True)
    keep = KeepBest(initial, PATIENCE)
    model.fit(step_batches(x, y, seed), epochs=EPOCHS, shuffle=False, verbose=0,  # the dataset shuffles itself
              validation_data=eval_batches, callbacks=[keep])  # fmt: skip
    return Clone(model, fraction, len(train), float(np.min(train.episode_returns)), keep.best_epoch)


def fit_clones(train: Episodes, evaluation: Episodes, space: dict, seed: int) -> dict[str, Clone]:
    """Plain behaviour cloning and %BC at each of `FILTER_FRACTIONS`, by their signature names."""
    clones = {BEHAVIOUR_CLONING: fit_clone(train, evaluation, space, seed)}
    for fraction in FILTER_FRACTIONS:
        clones[filtered_name(fraction)] = fit_clone(train, evaluation, space, seed, fraction)
    return clones

