"""The linear forecaster: closed-form ridge regression on a window, channel-independent.

The bar that public long-horizon benchmarks set (DLinear; Zeng et al., AAAI 2023): each
future step is a linear function of the window, expressed relative to the last value,

    y[h] - x[T-1] = sum_t W[t, h] * (x[t] - x[T-1]) + b[h]

with one (W, b) shared by every channel. Working on differences from the last value
makes the fit invariant to the level of the series and shrinks toward persistence as
`alpha` grows. Plain numpy: the Trainer fits it on the train split (as the gate's
linear challenger and to start the patch model's linear path), tests and benchmarks reuse it.
"""
from __future__ import annotations

import numpy as np

DEFAULT_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0)  # ridge penalties per training row, on standardized windows


def channel_rows(windows: np.ndarray, futures: np.ndarray | None = None):
    """(N, T, C) windows [and (N, H, C) futures] -> one row per window and channel: (N*C, T) [(N*C, H)]."""
    rows = np.moveaxis(windows, -1, 1).reshape(-1, windows.shape[1])
    if futures is None:
        return rows
    return rows, np.moveaxis(futures, -1, 1).reshape(-1, futures.shape[1])


class RidgeMoments:
    """The ridge fit's sufficient statistics, added up batch by batch.

    The fit needs only the Gram matrix and the moments of the centred differences, (T, T)
    and (T, H) however many windows there are, so the Trainer streams the train split
    through `add` instead of holding every window (at 100x ETTh2 that would be tens of GB
    in float64). Centring after the sums: X'X - n mx mx' on standardized windows loses
    nothing that matters in float64."""

    def __init__(self):
        self.n = 0  # rows: windows x channels
        self.windows = 0
        self.sum_x = self.sum_y = self.xx = self.xy = 0.0

    def add(self, windows: np.ndarray, futures: np.ndarray) -> RidgeMoments:
        """(B, T, C) windows and (B, H, C) futures of one batch."""
        x, y = channel_rows(np.asarray(windows, np.float64), np.asarray(futures, np.float64))
        last = x[:, -1:]  # (b, 1)
        dx, dy = x - last, y - last  # (b, T), (b, H)
        self.n += len(dx)
        self.windows += len(windows)
        self.sum_x, self.sum_y = self.sum_x + dx.sum(axis=0), self.sum_y + dy.sum(axis=0)
        self.xx, self.xy = self.xx + dx.T @ dx, self.xy + dx.T @ dy  # (T, T), (T, H)
        return self

    def solve(self, alphas) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W (T, H), b (H,))] for each alpha: (X'X + alpha * n * I) W = X'Y on centred
        differences (the intercept is not penalized), from one Gram matrix for every alpha."""
        if not self.n:
            raise ValueError("no windows to fit the ridge on")
        mx, my = self.sum_x / self.n, self.sum_y / self.n  # (T,), (H,)
        gram = self.xx - self.n * np.outer(mx, mx)  # (T, T)
        moment = self.xy - self.n * np.outer(mx, my)  # (T, H)
        solutions = []
        for alpha in alphas:
            weights = np.linalg.solve(gram + alpha * self.n * np.eye(len(mx)), moment)  # (T, H)
            solutions.append((weights.astype(np.float32), (my - mx @ weights).astype(np.float32)))
        return solutions


def fit_ridge_path(windows: np.ndarray, futures: np.ndarray, alphas) -> list[tuple[np.ndarray, np.ndarray]]:
    """(N, T, C) windows and (N, H, C) futures -> [(W (T, H), b (H,))] for each alpha."""
    return RidgeMoments().add(windows, futures).solve(alphas)


def fit_ridge(windows: np.ndarray, futures: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One alpha of `fit_ridge_path`: W (T, H), b (H,)."""
    return fit_ridge_path(windows, futures, [alpha])[0]


def fit_ridge_on_eval(train: tuple, evaluation: tuple, alphas=DEFAULT_ALPHAS) -> tuple[tuple, float, dict]:
    """((W, b), alpha, {alpha: eval MAE}): fitted on the train windows, the penalty chosen by
    MAE on the eval windows, as any hyperparameter is. `train`, `evaluation`: (windows, futures)."""
    return fit_ridge_streamed([train], [evaluation], alphas)[:3]


def fit_ridge_streamed(train_batches, eval_batches, alphas=DEFAULT_ALPHAS) -> tuple[tuple, float, dict, int]:
    """`fit_ridge_on_eval` over iterables of (windows, futures) batches, one pass over each, so
    that memory is bounded by a batch whatever the split's size; also returns the train windows."""
    moments = RidgeMoments()
    for windows, futures in train_batches:
        moments.add(windows, futures)
    solutions = moments.solve(alphas)
    errors, count = np.zeros(len(alphas)), 0
    for windows, futures in eval_batches:
        futures = np.asarray(futures, np.float64)
        errors += [np.abs(predict_ridge(windows, *w) - futures).sum() for w in solutions]
        count += futures.size
    maes = {float(a): float(e / count) for a, e in zip(alphas, errors, strict=True)}
    best = min(maes, key=maes.get)
    return solutions[list(maes).index(best)], best, maes, moments.windows


def predict_ridge(windows: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """(N, T, C) windows -> (N, H, C) forecasts."""
    windows = np.asarray(windows, np.float64)
    last = windows[:, -1:, :]  # (N, 1, C)
    return last + np.einsum("ntc,th->nhc", windows - last, weights) + bias[None, :, None]


def build_linear_forecaster(lookback: int, num_features: int, horizon: int, target_indices: list[int], weights, bias):
    """The fitted ridge as a Keras model: (B, T, F) window -> (B, H, N) forecast of the targets.

    Exported beside the candidate so that the Evaluator scores the linear challenger on
    the very examples, and in the very units, it scores the model on.
    """
    import keras
    from keras import ops

    from models.channels import fold_channels, unfold_channels
    from models.layers.linear_skip import LinearSkip

    window = keras.Input((lookback, num_features), name="window")
    targets = ops.take(window, list(target_indices), axis=-1)  # (B, T, N)
    linear = LinearSkip(horizon, name="linear")
    forecast = unfold_channels(linear(fold_channels(targets)), len(target_indices))  # (B, H, N)
    linear.set_weights([np.asarray(weights, np.float32), np.asarray(bias, np.float32)])
    return keras.Model(window, forecast, name="linear_forecaster")
