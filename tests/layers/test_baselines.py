import keras
import numpy as np
import pytest

from models.baselines import build_rnn_forecaster


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm"])
def test_rnn_forecaster_fits_and_reloads(tmp_path, kind):
    keras.utils.set_random_seed(0)
    model = build_rnn_forecaster(kind, lookback=5, num_features=3, horizon=2, num_targets=2, units=4)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    y = rng.normal(size=(4, 2, 2)).astype("float32")
    assert model(x).shape == (4, 2, 2)
    model.compile(optimizer="adam", loss="mse", run_eagerly=True)
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    assert np.isfinite(loss)
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights, strict=False))
    path = str(tmp_path / "model.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x).numpy(), model(x).numpy(), atol=1e-6)


def test_unknown_kind_lists_the_choices():
    with pytest.raises(ValueError, match="must be one of"):
        build_rnn_forecaster("gru", 5, 3, 2, 2)
