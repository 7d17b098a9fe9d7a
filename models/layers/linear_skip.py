"""`LinearSkip`: the ridge forecaster's form as a Keras layer, (B, T) -> (B, H).

    y[h] = x[T-1] + sum_t W[t, h] * (x[t] - x[T-1]) + b[h]

Started from a closed-form ridge solution (`models.linear.fit_ridge`), it lets a model
begin at the linear forecaster's quality, with the transformer learning the residual.
Zero-initialized, it is persistence.
"""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfx_transformers")
class LinearSkip(keras.layers.Layer):
    def __init__(self, horizon, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon

    def build(self, series_shape):
        self.kernel = self.add_weight(name="kernel", shape=(series_shape[-1], self.horizon), initializer="zeros")
        self.bias = self.add_weight(name="bias", shape=(self.horizon,), initializer="zeros")
        self.built = True

    def call(self, series):
        last = series[:, -1:]  # (B, 1)
        return last + ops.matmul(series - last, self.kernel) + self.bias  # (B, H)

    def compute_output_shape(self, series_shape):
        return (series_shape[0], self.horizon)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon}
