"""Warm start (`trainer.warm_start`): weights saved beside the serving model are restored into a
model that fits them (same shapes, same vocabulary), refused with a reason otherwise, and `fit`
records whether it started warm and each epoch's eval score."""
from __future__ import annotations

import json
import logging
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from components import training, warm_start
from data.config import PipelineConfig
from data.notices import NOTICE_LOGGER


def _model(width: int = 8, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def _transform_graph(root, terms: list[str]) -> str:
    """A transform graph folder as tf.Transform writes it, with one vocabulary asset."""
    assets = root / "transform_fn" / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "vocab_tokens").write_text("".join(f"{t}\n" for t in terms))
    return str(root)


def _data(n: int = 128):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    return x, y


@pytest.mark.slow
def test_saved_weights_restore_into_an_equal_model(tmp_path):
    graph = _transform_graph(tmp_path / "graph", ["a", "b", "c"])
    x, _ = _data(16)
    blessed, fresh = _model(seed=1), _model(seed=2)
    warm_start.save(blessed, str(tmp_path / "model"), graph)
    assert not np.allclose(fresh.predict(x, verbose=0), blessed.predict(x, verbose=0), atol=1e-3)
    # TFX gives fn_args.base_model as the artifact's Format-Serving folder
    done, why = warm_start.restore(fresh, str(tmp_path / "model" / "Format-Serving"), graph)
    assert done, why
    assert why == f"warm start from {tmp_path / 'model'}: 4 weights"
    np.testing.assert_allclose(fresh.predict(x, verbose=0), blessed.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    other = _model(seed=3)
    assert warm_start.restore(other, str(tmp_path / "model"), graph)[0]  # the artifact folder itself works too
    np.testing.assert_allclose(other.predict(x, verbose=0), blessed.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_another_width_is_refused_naming_the_weight_and_both_shapes(tmp_path):
    graph = _transform_graph(tmp_path / "graph", ["a", "b"])
    warm_start.save(_model(width=8), str(tmp_path / "model"), graph)
    wider = _model(width=16, seed=5)
    before = [w.copy() for w in wider.get_weights()]
    done, why = warm_start.restore(wider, str(tmp_path / "model"), graph)
    assert not done
    assert "kernel" in why and "(4, 16) here but (4, 8) in the blessed model" in why
    for old, new in zip(before, wider.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_a_changed_vocabulary_is_refused(tmp_path):
    warm_start.save(_model(), str(tmp_path / "model"), _transform_graph(tmp_path / "old", ["a", "b", "c"]))
    done, why = warm_start.restore(_model(), str(tmp_path / "model"), _transform_graph(tmp_path / "new", ["a", "b", "c", "d"]))
    assert not done and why.startswith("the vocabulary changed (3 -> 4 terms")
    same_count = _transform_graph(tmp_path / "swapped", ["a", "b", "z"])  # the same shapes, other terms
    done, why = warm_start.restore(_model(), str(tmp_path / "model"), same_count)
    assert not done and "the vocabulary changed (3 -> 3 terms (the same count, other terms)" in why


def test_no_blessed_model_or_no_warm_start_files_or_a_corrupt_file_is_refused(tmp_path):
    graph = _transform_graph(tmp_path / "graph", ["a"])
    assert warm_start.restore(_model(), None, graph) == (False, "no blessed model yet")
    (tmp_path / "old_model" / "Format-Serving").mkdir(parents=True)
    done, why = warm_start.restore(_model(), str(tmp_path / "old_model" / "Format-Serving"), graph)
    assert not done and "trained before warm start existed" in why
    folder = warm_start.save(_model(), str(tmp_path / "model"), graph)
    path = os.path.join(folder, warm_start.WEIGHTS_FILE)
    with open(path, "rb") as handle:
        content = handle.read()
    with open(path, "wb") as handle:
        handle.write(content[: len(content) // 2])  # a copy cut short
    model = _model(seed=7)
    before = model.get_weights()
    done, why = warm_start.restore(model, str(tmp_path / "model"), graph)
    assert not done and re.search(r"could not be read \(\w+: .+\)$", why), why
    np.testing.assert_array_equal(before[0], model.get_weights()[0])


def _config(warm: bool) -> PipelineConfig:
    config = PipelineConfig(task="timeseries")
    config.trainer.epochs, config.trainer.patience, config.trainer.warm_start = 3, 3, warm
    return config


@pytest.mark.slow
def test_fit_starts_from_the_blessed_weights_and_records_each_epoch(tmp_path, caplog):
    graph = _transform_graph(tmp_path / "graph", [])
    x, y = _data()
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    blessed = _model(seed=1)
    cold = training.fit(blessed, data, data, _config(False), str(tmp_path / "logs_cold"), str(tmp_path / "cold"),
                        warm_from=(None, graph))  # fmt: skip
    with open(training.record_path(str(tmp_path / "cold"))) as handle:
        cold_record = json.load(handle)
    assert cold_record["warm_started"] is False and cold_record["warm_start_reason"] == "trainer.warm_start is false"
    history = cold_record["eval_history"]
    assert [row["epoch"] for row in history] == list(range(len(cold.epoch) + 1))
    np.testing.assert_allclose([row["val_loss"] for row in history[1:]], cold.history["val_loss"], rtol=1e-5)
    assert all(a["seconds"] <= b["seconds"] for a, b in zip(history, history[1:], strict=False))

    blessed_loss = blessed.evaluate(data, verbose=0)
    warm = _model(seed=2)
    training.fit(warm, data, data, _config(True), str(tmp_path / "logs_warm"), str(tmp_path / "warm"),
                 warm_from=(str(tmp_path / "cold" / "Format-Serving"), graph))  # fmt: skip
    with open(training.record_path(str(tmp_path / "warm"))) as handle:
        record = json.load(handle)
    assert record["warm_started"] is True and record["warm_start_reason"].startswith("warm start from")
    assert record["eval_history"][0]["epoch"] == 0
    assert record["eval_history"][0]["val_loss"] == pytest.approx(blessed_loss, rel=1e-4)
    assert record["eval_history"][0]["val_loss"] < history[0]["val_loss"] / 2  # far from a cold start

    with caplog.at_level(logging.WARNING, logger=NOTICE_LOGGER):
        training.fit(_model(seed=3), data, data, _config(True), str(tmp_path / "logs_none"), str(tmp_path / "none"),
                     warm_from=(None, graph))  # fmt: skip
    with open(training.record_path(str(tmp_path / "none"))) as handle:
        record = json.load(handle)
    assert record["warm_started"] is False and record["warm_start_reason"] == "no blessed model yet"
    notices = [r.getMessage() for r in caplog.records if r.name == NOTICE_LOGGER]
    assert any("trains from scratch: no blessed model yet" in line for line in notices)


def test_a_model_that_builds_on_its_first_call_is_built_from_one_batch_then_restored(tmp_path):
    graph = _transform_graph(tmp_path / "graph", [])
    x, y = _data(32)
    blessed = _model(seed=1)
    warm_start.save(blessed, str(tmp_path / "model"), graph)
    keras.utils.set_random_seed(4)
    lazy = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])  # no Input: no weights yet
    assert not lazy.weights
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    done, why = training.try_warm_start(lazy, data, _config(True), (str(tmp_path / "model" / "Format-Serving"), graph))
    assert done, why
    np.testing.assert_allclose(lazy.predict(x, verbose=0), blessed.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_warm_started_fit_runs_warm_start_epochs_and_a_cold_one_all_of_its_epochs(tmp_path):
    graph = _transform_graph(tmp_path / "graph", [])
    x, y = _data()
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    warm_start.save(_model(seed=1), str(tmp_path / "blessed"), graph)
    runs = {}
    for name, base in (("warm", str(tmp_path / "blessed" / "Format-Serving")), ("cold", None)):
        config = _config(True)
        config.trainer.warm_start_epochs = 1
        runs[name] = training.fit(_model(seed=2), data, data, config, str(tmp_path / f"logs_{name}"),
                                  str(tmp_path / name), warm_from=(base, graph))  # fmt: skip
    assert len(runs["warm"].epoch) == 1 and len(runs["cold"].epoch) == 3  # the cold one: trainer.epochs


def test_layers_a_model_keeps_stay_as_built_and_the_rest_is_warm(tmp_path):
    """A patch forecaster keeps its linear path (this run's ridge) and warm-starts the rest."""
    graph = _transform_graph(tmp_path / "graph", [])
    warm_start.save(_model(seed=1), str(tmp_path / "blessed"), graph)
    blessed = _model(seed=1).get_weights()
    model = _model(seed=2)
    own = model.get_weights()
    model.warm_start_keeps = (model.layers[-1].name,)  # the output layer stays as built
    done, why = warm_start.restore(model, str(tmp_path / "blessed" / "Format-Serving"), graph)
    assert done and "2 weights (2 kept as built" in why, why
    after = model.get_weights()
    for index in (0, 1):  # the hidden layer: the blessed model's
        np.testing.assert_array_equal(after[index], blessed[index])
    for index in (2, 3):  # the output layer: its own initial values
        np.testing.assert_array_equal(after[index], own[index])
    assert not np.array_equal(own[0], blessed[0])  # the two starts differ, so the check means something
