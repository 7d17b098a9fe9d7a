"""The linear challenger's closed form matches a reference ridge on the same rows."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from models.linear import channel_rows, fit_ridge, predict_ridge


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
