"""Recurrent baselines the course compares transformers with: SimpleRNN and LSTM.

Each maps a window (B, lookback, num_features) to a forecast (B, horizon, num_targets)
with one recurrent layer and a Dense head that predicts the whole horizon at once.
"""
from __future__ import annotations

import keras

RECURRENT_LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}


def build_rnn_forecaster(
    kind: str,
    lookback: int,
    num_features: int,
    horizon: int,
    num_targets: int,
    units: int = 32,
) -> keras.Model:
    """`kind` is "simple_rnn" or "lstm". No recurrent dropout: `LSTM(dropout>0)` fails
    to export as a SavedModel ("untracked resource")."""
    if kind not in RECURRENT_LAYERS:
        raise ValueError(f"`kind` ({kind!r}) must be one of {sorted(RECURRENT_LAYERS)}.")
    inputs = keras.Input((lookback, num_features), name="window")
    state = RECURRENT_LAYERS[kind](units, name=kind)(inputs)  # (B, units): last state
    forecast = keras.layers.Dense(horizon * num_targets, name="forecast")(state)
    forecast = keras.layers.Reshape((horizon, num_targets))(forecast)  # (B, horizon, targets)
    return keras.Model(inputs, forecast, name=f"{kind}_forecaster")
