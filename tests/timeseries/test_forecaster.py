"""The forecaster builds from models/layers, starts at its naive base, trains, saves and exports."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.forecaster import VARIANTS, ForecasterConfig, NaiveForecast, build_forecaster
from tasks.timeseries import challengers


def _config(**overrides) -> ForecasterConfig:
    values = dict(lookback=8, num_features=2, horizon=4, target_indices=[1], model_dim=8, num_heads=2,
                  intermediate_dim=16, num_layers=1, dropout=0.0)
    values.update(overrides)
    return ForecasterConfig(**values)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_builds_trains_and_reloads(variant, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_forecaster(_config(variant=variant))
    x = np.random.default_rng(0).normal(size=(16, 8, 2)).astype("float32")
    y = np.random.default_rng(1).normal(size=(16, 4, 1)).astype("float32")
    assert model(x).shape == (16, 4, 1)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(x), model(x), atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_exports_as_saved_model(variant, tmp_path):
    model = build_forecaster(_config(variant=variant))
    x = np.random.default_rng(0).normal(size=(3, 8, 2)).astype("float32")

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 2], tf.float32)])
    def serve(window):
        return {"forecast": model(window, training=False)}

    tf.saved_model.save(model, str(tmp_path), signatures={"serving_default": serve})
    reloaded = tf.saved_model.load(str(tmp_path)).signatures["serving_default"]
    np.testing.assert_allclose(reloaded(window=tf.constant(x))["forecast"], model(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("season", [None, 4, 3])
def test_untrained_model_is_its_naive_base(season):
    """The course variants' head starts at zero: before training the forecast equals the naive rule exactly."""
    model = build_forecaster(_config(season=season, variant="encoder"))
    window = np.random.default_rng(0).normal(size=(5, 8, 2)).astype("float32")
    expected = (
        challengers.seasonal_naive(window[0, :, 1], 4, season)
        if season
        else challengers.persistence(window[0, :, 1], 4)
    )
    np.testing.assert_allclose(model(window)[0, :, 0], expected, atol=1e-6)


def test_naive_layer_matches_the_metric_baselines():
    """One definition of seasonal naive: the model's base and the Evaluator's baseline agree."""
    window = np.arange(10, dtype="float32")[None, :, None]  # (1, 10, 1)
    layer = NaiveForecast([0], horizon=5, season=3)
    np.testing.assert_allclose(layer(window)[0, :, 0], challengers.seasonal_naive(window[0, :, 0], 5, 3))
    np.testing.assert_allclose(challengers.seasonal_naive(np.arange(10.0), 5, 3), [7, 8, 9, 7, 8])


def test_bad_width_says_what_to_change():
    with pytest.raises(ValueError, match=r"`model_dim` \(10\) must be divisible by `num_heads` \(4\)"):
        build_forecaster(_config(model_dim=10, num_heads=4))
