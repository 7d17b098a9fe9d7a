"""The patch forecaster: RevIN equivariance, channel independence, its ridge start, saving."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from models.forecaster import ForecasterConfig, build_forecaster
from models.layers.revin import RevIN
from models.linear import build_linear_forecaster, fit_ridge, predict_ridge

LOOKBACK, HORIZON = 20, 5


def _model(linear_init=None, **overrides):
    keras.utils.set_random_seed(0)
    values = dict(lookback=LOOKBACK, num_features=3, horizon=HORIZON, target_indices=[0, 2], variant="patch",
                  patch_length=8, patch_stride=4, model_dim=8, num_heads=2, intermediate_dim=16, num_layers=1,
                  dropout=0.0)  # fmt: skip
    values.update(overrides)
    return build_forecaster(ForecasterConfig(**values), linear_init)


def _windows(n=6, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(size=(n, LOOKBACK, 3)), axis=1).astype("float32")


def _trained(model, x):
    """A few steps with a non-zero head, so that the transformer path contributes."""
    y = np.random.default_rng(1).normal(size=(len(x), HORIZON, 2)).astype("float32")
    model.fit(x, y, epochs=3, batch_size=len(x), verbose=0)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("scale, shift", [(3.0, 10.0), (0.5, -4.0)])
def test_forecast_follows_an_affine_map_of_the_window(scale, shift):
    """RevIN: forecast(a * x + b) == a * forecast(x) + b, for the whole model, after training."""
    x = _windows()
    model = _trained(_model(), x)
    base = np.asarray(model(x))
    moved = np.asarray(model(scale * x + shift))
    np.testing.assert_allclose(moved, scale * base + shift, rtol=1e-4, atol=1e-4)  # float32: measured 3e-6


@pytest.mark.slow
def test_a_column_forecast_ignores_other_columns():
    """Channel independence: changing column 2 (or a non-target column 1) leaves column 0's forecast as it was."""
    x = _windows()
    model = _trained(_model(), x)
    before = np.asarray(model(x))
    changed = x.copy()
    changed[..., 1:] = np.random.default_rng(5).normal(size=changed[..., 1:].shape) * 100
    after = np.asarray(model(changed))
    np.testing.assert_allclose(after[..., 0], before[..., 0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(after[..., 1], before[..., 1])  # column 2 did change: the test can fail


def test_starts_at_the_ridge_it_is_given():
    """Head at zero, linear path at the ridge solution: the untrained model forecasts like ridge,
    but for the intercept, which RevIN applies in normalized units and so scales by each window's
    standard deviation: model = ridge + bias * (std - 1), exactly (ridge's form is shift-equivariant
    and its slope part scale-equivariant, so normalizing and de-normalizing change nothing else)."""
    train = _windows(200, seed=3)
    targets = train[..., [0, 2]]  # (N, T, 2)
    x, y = train[:, :LOOKBACK][..., [0, 2]], np.cumsum(np.random.default_rng(4).normal(size=(200, HORIZON, 2)), 1)
    weights, bias = fit_ridge(x, y.astype("float32"))
    model = _model((weights, bias))
    ridge = predict_ridge(targets, weights, bias)  # (N, H, 2)
    std = np.sqrt(targets.var(axis=1, keepdims=True) + RevIN().epsilon)  # (N, 1, 2), as RevIN computes it
    expected = ridge + bias[None, :, None] * (std - 1)
    assert np.abs(expected - ridge).max() > 0.1  # the intercept's rescaling is far above the tolerance
    # Fixed tolerance: float32 arithmetic on forecasts of magnitude ~3, and RevIN dividing by its
    # scale (1) plus epsilon (1e-5); measured 7e-5.
    np.testing.assert_allclose(np.asarray(model(train)), expected, rtol=0, atol=1e-3)
    linear = build_linear_forecaster(LOOKBACK, 3, HORIZON, [0, 2], weights, bias)
    np.testing.assert_allclose(np.asarray(linear(train)), ridge, rtol=1e-5, atol=1e-4)


@pytest.mark.slow
def test_saves_and_reloads(tmp_path):
    x = _windows()
    model = _trained(_model(), x)
    path = tmp_path / "model.keras"
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(x), model(x), atol=1e-5)


def test_cosine_schedule_warms_up_then_decays():
    from models.forecaster import learning_rate

    config = ForecasterConfig(lookback=LOOKBACK, num_features=3, horizon=HORIZON, target_indices=[0],
                              learning_rate=1e-3, decay_steps=100, warmup_fraction=0.1)  # fmt: skip
    schedule = learning_rate(config)
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(5e-4) and rates[2] == pytest.approx(1e-3)
    assert rates[2] > rates[3] > rates[4] and rates[4] < 1e-5
    assert learning_rate(ForecasterConfig(lookback=8, num_features=1, horizon=2, target_indices=[0])) == 1e-3
