"""Reversible instance normalization (RevIN; Kim et al., ICLR 2022), as used by PatchTST.

Each window is standardized by its own per-channel mean and standard deviation before
the network sees it, and the forecast is mapped back with the same statistics. A
level shift or a change of scale between train and test windows then does not reach
the network: for `a > 0`, forecasting `a * x + b` gives `a * forecast(x) + b`.
"""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfx_transformers")
class RevIN(keras.layers.Layer):
    """`call(x)` (B, T, C) -> (normalized (B, T, C), mean (B, 1, C), std (B, 1, C));
    `denormalize(y, mean, std)` maps (B, H, C) back.

    With `affine`, a learned per-channel scale and bias follow the normalization and
    are undone before de-normalization, as in the paper.
    """

    def __init__(self, affine=True, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.affine = affine
        self.epsilon = epsilon

    def build(self, x_shape):
        channels = x_shape[-1]
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")
        self.built = True

    def call(self, x):
        mean = ops.mean(x, axis=1, keepdims=True)  # (B, 1, C)
        std = ops.sqrt(ops.var(x, axis=1, keepdims=True) + self.epsilon)  # (B, 1, C)
        normalized = (x - mean) / std
        if self.affine:
            normalized = normalized * self.gamma + self.beta
        return normalized, mean, std

    def denormalize(self, y, mean, std):
        if self.affine:
            y = (y - self.beta) / (self.gamma + self.epsilon)
        return y * std + mean

    def compute_output_shape(self, x_shape):
        stats = (x_shape[0], 1, x_shape[-1])
        return x_shape, stats, stats

    def get_config(self):
        return {**super().get_config(), "affine": self.affine, "epsilon": self.epsilon}
