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

from components.training import KeepBest, build_training_state
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
    initial = model.evaluate(x_eval, y_eval, batch_size=BATCH, verbose=0, return_dict=True)
    keep = KeepBest(initial, PATIENCE)
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0, validation_data=(x_eval, y_eval), callbacks=[keep])
    return Clone(model, fraction, len(train), float(np.min(train.episode_returns)), keep.best_epoch)


def fit_clones(train: Episodes, evaluation: Episodes, space: dict, seed: int) -> dict[str, Clone]:
    """Plain behaviour cloning and %BC at each of `FILTER_FRACTIONS`, by their signature names."""
    clones = {BEHAVIOUR_CLONING: fit_clone(train, evaluation, space, seed)}
    for fraction in FILTER_FRACTIONS:
        clones[filtered_name(fraction)] = fit_clone(train, evaluation, space, seed, fraction)
    return clones

