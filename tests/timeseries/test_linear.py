"""The linear challenger's closed form matches a reference ridge on the same rows."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from models.linear import channel_rows, fit_ridge, fit_ridge_on_eval, predict_ridge


def test_ridge_matches_sklearn_on_differences_from_the_last_value():
    rng = np.random.default_rng(0)
    windows = np.cumsum(rng.normal(size=(50, 12, 2)), axis=1)
    futures = windows[:, -1:, :] + rng.normal(size=(50, 4, 2))
    alpha = 0.3
    weights, bias = fit_ridge(windows, futures, alpha)
    x, y = channel_rows(windows, futures)  # (100, 12), (100, 4)
    reference = Ridge(alpha=alpha * len(x)).fit(x - x[:, -1:], y - x[:, -1:])
    np.testing.assert_allclose(weights, reference.coef_.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias, reference.intercept_, rtol=1e-4, atol=1e-5)
    forecast = predict_ridge(windows, weights, bias)
    expected = windows[:, -1:, :] + np.moveaxis(
        reference.predict(x - x[:, -1:]).reshape(50, 2, 4), 1, 2
    )
    np.testing.assert_allclose(forecast, expected, rtol=1e-4, atol=1e-4)


def test_huge_penalty_is_persistence():
    rng = np.random.default_rng(1)
    windows = rng.normal(size=(30, 8, 1))
    weights, bias = fit_ridge(windows, rng.normal(size=(30, 3, 1)) + windows[:, -1:], alpha=1e9)
    np.testing.assert_allclose(predict_ridge(windows, weights, 0 * bias), np.repeat(windows[:, -1:], 3, axis=1), atol=1e-6)


def test_penalty_is_chosen_on_eval():
    """Noisy, short train data: a larger penalty (closer to persistence) wins on eval."""
    rng = np.random.default_rng(2)
    windows = np.cumsum(rng.normal(size=(60, 16, 1)), axis=1)
    futures = np.repeat(windows[:, -1:], 3, axis=1) + rng.normal(size=(60, 3, 1))  # persistence + noise
    held = np.cumsum(rng.normal(size=(200, 16, 1)), axis=1)
    held_futures = np.repeat(held[:, -1:], 3, axis=1)
    (weights, bias), alpha, maes = fit_ridge_on_eval((windows, futures), (held, held_futures), (1e-4, 1.0, 1e4))
    assert alpha == 1e4 and maes[1e4] < maes[1e-4]
    expected = fit_ridge(windows, futures, 1e4)
    np.testing.assert_allclose(weights, expected[0], atol=1e-6)
    np.testing.assert_allclose(bias, expected[1], atol=1e-6)


def test_streamed_fit_in_batches_is_the_fit_on_all_windows():
    """The Trainer streams the splits through the ridge fit (memory bounded by a batch): batch by
    batch, it must find what the fit on every window at once finds."""
    from models.linear import fit_ridge_streamed

    rng = np.random.default_rng(3)
    windows = 5.0 + np.cumsum(rng.normal(size=(300, 24, 3)), axis=1)  # a level far from 0: centring matters
    futures = windows[:, -1:, :] + 0.5 * (windows[:, -1:, :] - windows[:, -2:-1, :]) + rng.normal(size=(300, 6, 3))
    held, held_futures = windows[:100] + 0.1, futures[:100] + 0.1
    whole = fit_ridge_on_eval((windows, futures), (held, held_futures), (0.01, 1.0))
    batches = [(windows[i : i + 64], futures[i : i + 64]) for i in range(0, 300, 64)]  # 5 batches, the last short
    held_batches = [(held[i : i + 30], held_futures[i : i + 30]) for i in range(0, 100, 30)]
    (weights, bias), alpha, maes, count = fit_ridge_streamed(iter(batches), iter(held_batches), (0.01, 1.0))
    assert count == 300 and alpha == whole[1]
    np.testing.assert_allclose(weights, whole[0][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias, whole[0][1], rtol=1e-4, atol=1e-5)
    assert maes == {a: pytest.approx(m, rel=1e-9) for a, m in whole[2].items()}
    x, y = channel_rows(windows, futures)
    reference = Ridge(alpha=alpha * len(x)).fit(x - x[:, -1:], y - x[:, -1:])  # and both are the ridge
    np.testing.assert_allclose(weights, reference.coef_.T, rtol=1e-4, atol=1e-5)
