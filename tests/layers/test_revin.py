import numpy as np
import pytest
from harness import run_layer_test

from models.layers.revin import RevIN

RNG = np.random.default_rng(0)
# (B, T, C) windows with their own level and scale per instance and channel.
SCALE = RNG.uniform(0.5, 3.0, size=(2, 1, 6))
LEVEL = 10.0 * RNG.normal(size=(2, 1, 6))
X = (SCALE * RNG.normal(size=(2, 4, 6)) + LEVEL).astype("float32")
STATS = (2, 1, 6)


@pytest.mark.parametrize("affine, weights", [(True, 2), (False, 0)])
def test_revin_layer(tmp_path, affine, weights):
    run_layer_test(
        RevIN, {"affine": affine}, {"x": X}, ((2, 4, 6), STATS, STATS), weights, tmp_path  # gamma, beta
    )


@pytest.mark.parametrize("affine", [True, False])
def test_normalized_windows_have_zero_mean_and_unit_std(affine):
    """Per instance and channel, over time; the affine map starts as the identity."""
    normalized, mean, std = RevIN(affine=affine)(X)
    normalized = np.asarray(normalized)
    np.testing.assert_allclose(normalized.mean(axis=1), 0.0, atol=1e-5)
    # std is sqrt(var + epsilon), so the output std is sqrt(var / (var + epsilon)), just under 1.
    variance = X.var(axis=1)
    np.testing.assert_allclose(normalized.std(axis=1), np.sqrt(variance / (variance + 1e-5)), rtol=1e-5)
    np.testing.assert_allclose(normalized.std(axis=1), 1.0, atol=1e-3)
    np.testing.assert_allclose(np.asarray(mean), X.mean(axis=1, keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(std), np.sqrt(X.var(axis=1, keepdims=True) + 1e-5), rtol=1e-5)


def test_revin_round_trip():
    x = np.cumsum(np.random.default_rng(0).normal(size=(6, 20, 3)), axis=1).astype("float32")  # random walks
    revin = RevIN()
    normalized, mean, std = revin(x)
    np.testing.assert_allclose(np.asarray(normalized).mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(revin.denormalize(normalized, mean, std), x, rtol=1e-5, atol=1e-4)


def test_denormalize_undoes_a_learned_affine_map():
    """`denormalize` divides by gamma + epsilon, not gamma: exact to epsilon / gamma (2e-5 here)."""
    revin = RevIN()
    revin.build(X.shape)
    revin.gamma.assign(np.linspace(0.5, 2.0, 6).astype("float32"))
    revin.beta.assign(np.linspace(-1.0, 1.0, 6).astype("float32"))
    normalized, mean, std = revin(X)
    assert not np.allclose(np.asarray(normalized).mean(axis=1), 0.0, atol=1e-2)  # beta moved it
    np.testing.assert_allclose(np.asarray(revin.denormalize(normalized, mean, std)), X, rtol=1e-4, atol=1e-4)


def test_a_forecast_is_mapped_back_with_the_window_statistics():
    """Denormalize takes any horizon H: a normalized forecast of zeros is the window mean."""
    revin = RevIN(affine=False)
    _, mean, std = revin(X)
    forecast = np.asarray(revin.denormalize(np.zeros((2, 3, 6), "float32"), mean, std))  # (B, H, C)
    window_mean = np.broadcast_to(X.mean(axis=1, keepdims=True), (2, 3, 6))
    np.testing.assert_allclose(forecast, window_mean, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scale, shift", [(3.0, 10.0), (0.5, -4.0)])
def test_normalization_ignores_level_and_scale(scale, shift):
    """What RevIN is for: the network sees the same input for a * x + b (a > 0) as for x.
    (Exactly so with a negligible epsilon; the default 1e-5 floors small variances.)"""
    revin = RevIN(epsilon=1e-10)
    base = np.asarray(revin(X)[0])
    moved = np.asarray(revin(scale * X + shift)[0])
    np.testing.assert_allclose(moved, base, rtol=1e-4, atol=1e-4)
