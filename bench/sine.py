"""The course's comparison on a sine-wave forecasting toy: SimpleRNN vs LSTM vs a small
transformer encoder, trained identically (same windows, optimizer, epochs, seed).

The series is a seeded sine with small Gaussian noise, split by time (first 80% to
train); each model reads `LOOKBACK` steps and forecasts the next `HORIZON`.
"""
from __future__ import annotations

import time

import keras
import numpy as np

from models.baselines import build_rnn_forecaster
from models.layers import Encoder, PositionalEncoding

SERIES_LENGTH = 2400
PERIOD = 50  # steps per sine cycle
NOISE = 0.05
LOOKBACK = 32
HORIZON = 8
TRAIN_FRACTION = 0.8
EPOCHS = 5
BATCH_SIZE = 32
UNITS = 32  # RNN units and transformer width


def sine_windows(seed: int = 0):
    """(train_x, train_y, test_x, test_y) windows of a noisy sine, split by time."""
    rng = np.random.default_rng(seed)
    t = np.arange(SERIES_LENGTH)
    series = np.sin(2 * np.pi * t / PERIOD) + NOISE * rng.normal(size=SERIES_LENGTH)
    series = series.astype("float32")
    split = int(SERIES_LENGTH * TRAIN_FRACTION)

    def windows(part):
        starts = range(len(part) - LOOKBACK - HORIZON + 1)
        x = np.stack([part[s : s + LOOKBACK] for s in starts])[..., None]  # (N, L, 1)
        y = np.stack([part[s + LOOKBACK : s + LOOKBACK + HORIZON] for s in starts])[..., None]
        return x, y  # y: (N, H, 1)

    # No window crosses the split: the test part starts at the split.
    return (*windows(series[:split]), *windows(series[split:]))


def build_transformer_forecaster(num_layers=2, num_heads=4, intermediate_dim=64) -> keras.Model:
    """Dense projection -> sinusoidal positions -> Encoder -> flatten -> Dense(horizon)."""
    inputs = keras.Input((LOOKBACK, 1), name="window")
    x = keras.layers.Dense(UNITS, name="projection")(inputs)  # (B, L, D)
    x = PositionalEncoding(LOOKBACK)(x)
    x = Encoder(num_layers, num_heads, intermediate_dim, norm_first=True, name="encoder")(x)
    x = keras.layers.Flatten()(x)  # (B, L * D)
    forecast = keras.layers.Dense(HORIZON, name="forecast")(x)
    forecast = keras.layers.Reshape((HORIZON, 1))(forecast)  # (B, H, 1)
    return keras.Model(inputs, forecast, name="transformer_forecaster")


BUILDERS = {
    "simple_rnn": lambda: build_rnn_forecaster("simple_rnn", LOOKBACK, 1, HORIZON, 1, UNITS),
    "lstm": lambda: build_rnn_forecaster("lstm", LOOKBACK, 1, HORIZON, 1, UNITS),
    "transformer": build_transformer_forecaster,
}


def run(args=None) -> list[dict]:
    train_x, train_y, test_x, test_y = sine_windows()
    rows = []
    for name, build in BUILDERS.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=False)
        started = time.perf_counter()
        model.fit(train_x, train_y, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
        seconds = time.perf_counter() - started
        test_mse = float(model.evaluate(test_x, test_y, batch_size=256, verbose=0))
        rows.append(
            {
                "model": name,
                "params": model.count_params(),
                "test_mse": test_mse,
                "train_seconds": seconds,
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
