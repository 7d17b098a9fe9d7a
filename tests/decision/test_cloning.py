"""The cloning challengers: %BC keeps the best episodes by return, and each clone keeps its best epoch on eval."""
from __future__ import annotations

import numpy as np
import pytest

from tasks.decision import cloning
from tasks.decision.rollout import action_space_info
from tasks.decision.serving import BEHAVIOUR_CLONING
from tasks.decision.windows import Episodes

CARTPOLE = action_space_info("CartPole-v1")
# The epoch bound these tests fit to: cloning.EPOCHS (100) only bounds a Trainer's time, and a
# bound above PATIENCE (10) is all the claims below need: a clone that keeps improving still
# keeps an epoch >= 1, and one that only gets worse is still stopped by PATIENCE at epoch 10.
# Measured over seeds 0-3 at 15 epochs: %BC-10 acts 1 on 100 % of the states, plain cloning on 0 %.
TEST_EPOCHS = 15


@pytest.fixture
def few_epochs(monkeypatch):
    assert cloning.PATIENCE < TEST_EPOCHS < cloning.EPOCHS
    monkeypatch.setattr(cloning, "EPOCHS", TEST_EPOCHS)


def logged(returns: list[float], good_action: int = 1, steps: int = 40, seed: int = 0) -> Episodes:
    """Episodes on the same kind of states; an episode of return >= 100 always takes
    `good_action`, the others the other action, so what a clone learns tells which episodes it saw."""
    rng = np.random.default_rng(seed)
    parts = {"returns_to_go": [], "states": [], "actions": [], "timesteps": []}
    for value in returns:
        action = good_action if value >= 100 else 1 - good_action
        parts["returns_to_go"].append(np.linspace(value, 1.0, steps).astype(np.float32))
        parts["states"].append(rng.normal(size=(steps, 4)).astype(np.float32))
        parts["actions"].append(np.full((steps, 1), float(action), np.float32))
        parts["timesteps"].append(np.arange(steps, dtype=np.int32))
    return Episodes(**parts, episode_returns=np.asarray(returns, np.float32))


def test_top_episodes_keeps_the_highest_returns_in_their_order():
    episodes = logged([10.0, 500.0, 30.0, 200.0, 20.0, 480.0, 15.0, 40.0, 12.0, 11.0])
    top = cloning.top_episodes(episodes, 0.25)  # ceil(2.5) = 3 episodes
    np.testing.assert_array_equal(top.episode_returns, [500.0, 200.0, 480.0])
    np.testing.assert_array_equal(top.returns_to_go[0], episodes.returns_to_go[1])  # every field follows its episode
    np.testing.assert_array_equal(top.states[2], episodes.states[5])
    np.testing.assert_array_equal(cloning.top_episodes(episodes, 0.1).episode_returns, [500.0])
    assert len(cloning.top_episodes(logged([5.0, 7.0]), 0.1)) == 1  # at least one episode
    assert len(cloning.top_episodes(episodes, 1.0)) == len(episodes)
    with pytest.raises(ValueError, match="fraction"):
        cloning.top_episodes(episodes, 0.0)


def test_step_batches_give_every_pair_once_a_pass_in_a_new_seeded_order_each_pass():
    x = np.arange(600, dtype=np.float32).reshape(300, 2)  # (N, S): row i holds 2i, 2i + 1
    y = np.arange(300, dtype=np.int32)  # (N,): pair i's action is i
    def passes(seed, count=3):
        dataset = cloning.step_batches(x, y, seed)
        return [[(xb.numpy(), yb.numpy()) for xb, yb in dataset] for _ in range(count)]  # a new iterator a pass, as Keras's epochs

    shuffled = passes(seed=0)
    for batches in shuffled:
        assert [len(b) for _, b in batches] == [cloning.BATCH, 300 - cloning.BATCH]  # the last batch smaller
        states, actions = np.concatenate([s for s, _ in batches]), np.concatenate([a for _, a in batches])
        assert sorted(actions) == list(range(300))  # every pair once
        np.testing.assert_array_equal(states[:, 0], 2 * actions)  # each state with its own action
    orders = [np.concatenate([a for _, a in batches]) for batches in shuffled]
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(300))
    again = [np.concatenate([a for _, a in batches]) for batches in passes(seed=0)]  # a new dataset, the same seed
    np.testing.assert_array_equal(np.stack(again), np.stack(orders))
    other = np.concatenate([a for _, a in passes(seed=1, count=1)[0]])
    assert not np.array_equal(other, orders[0])
    in_order = passes(seed=None, count=2)  # eval: in order, every pass
    for batches in in_order:
        np.testing.assert_array_equal(np.concatenate([a for _, a in batches]), np.arange(300))


@pytest.mark.slow
def test_filtered_cloning_imitates_the_best_episodes_and_plain_cloning_the_majority(few_epochs):
    """Nine of ten episodes are poor and act 0; the best act 1: %BC must learn 1, plain cloning 0."""
    returns = [20.0, 30.0, 500.0, 25.0, 40.0, 35.0, 15.0, 22.0, 18.0, 28.0] * 2
    train, evaluation = logged(returns, seed=1), logged(returns[:10], seed=2)
    states = np.random.default_rng(3).normal(size=(200, 4)).astype(np.float32)
    clones = cloning.fit_clones(train, evaluation, CARTPOLE, seed=0)
    assert set(clones) == {BEHAVIOUR_CLONING, "filtered_behaviour_cloning_10", "filtered_behaviour_cloning_25"}
    actions = {name: clone.model.predict(states, verbose=0).argmax(axis=1).mean() for name, clone in clones.items()}
    assert actions["filtered_behaviour_cloning_10"] > 0.95 and actions[BEHAVIOUR_CLONING] < 0.05, actions
    top = clones["filtered_behaviour_cloning_10"]
    assert (top.episodes, top.min_return, top.fraction) == (2, 500.0, 0.1)
    assert clones["filtered_behaviour_cloning_25"].episodes == 5 and clones[BEHAVIOUR_CLONING].episodes == 20
    kept = {name: clone.kept_epoch for name, clone in clones.items()}
    assert all(1 <= epoch <= cloning.EPOCHS for epoch in kept.values()), kept  # trained: the start is kept only if no epoch helps


@pytest.mark.slow
def test_the_epoch_is_chosen_on_eval_and_can_be_the_start(few_epochs):
    """Eval episodes that act against everything train shows: every epoch makes eval worse, so the start stays."""
    train = logged([500.0] * 6, good_action=1, seed=4)
    against = logged([500.0] * 3, good_action=0, seed=5)
    clone = cloning.fit_clone(train, against, CARTPOLE, seed=0)
    assert clone.kept_epoch == 0
    agreeing = cloning.fit_clone(train, logged([500.0] * 3, good_action=1, seed=5), CARTPOLE, seed=0)
    assert agreeing.kept_epoch > 0


@pytest.mark.slow
@pytest.mark.parametrize("learning_rate", [0.05, 3.0])  # learns (epoch 6 kept); diverges (the start kept)
def test_the_transformers_kept_epoch_is_read_back_as_keep_best_printed_it(learning_rate, tmp_path, capsys):
    """`training.fit`'s history says the epoch KeepBest kept, as it printed it."""
    import re

    import keras

    from components import training
    from data.config import PipelineConfig

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)  # (256, 1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    config = PipelineConfig.from_dict({"task": "decision", "trainer": {"epochs": 6, "patience": 6}})
    train = tf_batches(x, y, shuffle=True)
    evaluation = tf_batches(x[:64] + 0.1, y[:64], shuffle=False)
    history = training.fit(model, train, evaluation, config, str(tmp_path))
    printed = int(re.search(r"KeepBest: kept epoch (\d+)", capsys.readouterr().out).group(1))
    assert history.kept_epoch == printed
    final = model.evaluate(evaluation, verbose=0, return_dict=True)["loss"]  # the kept weights' eval loss
    if printed:  # the restored weights are the kept epoch's
        assert final == pytest.approx(history.history["val_loss"][printed - 1], rel=1e-4)
    assert (printed > 0) == (learning_rate < 1)


def tf_batches(x, y, shuffle):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    return (dataset.shuffle(len(x), seed=0) if shuffle else dataset).batch(32)
