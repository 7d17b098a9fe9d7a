"""Position signals: fixed sinusoidal, learned, and token + learned position embeddings.

Attention is permutation invariant, so order must be added to the inputs. Both
position layers return `inputs + signal`, so they drop into a model in one line.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


def _check_length(layer_name, length, max_length):
    if length is not None and length > max_length:
        raise ValueError(
            f"{layer_name} got sequences of length {length} but `max_length` is "
            f"{max_length}: raise `max_length` to at least {length}."
        )


def sinusoidal_table(max_length: int, dim: int) -> np.ndarray:
    """(max_length, dim) table of Vaswani et al.: sin on even channels, cos on odd ones."""
    positions = np.arange(max_length, dtype="float64")[:, None]  # (L, 1)
    rates = 1.0 / np.power(10000.0, (2 * (np.arange(dim) // 2)) / dim)  # (D,)
    angles = positions * rates[None, :]  # (L, D)
    table = np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype("float32")


@keras.saving.register_keras_serializable(package="tfx_transformers")
class PositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position encoding to `inputs` (B, T, D), T <= max_length.

    No weights: it generalizes to any width and costs nothing to train, which makes it
    the default for forecasting windows.
    """

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.supports_masking = True

    def build(self, inputs_shape):
        _check_length(self.name, inputs_shape[1], self.max_length)
        self.table = sinusoidal_table(self.max_length, inputs_shape[-1])  # (L, D) constant
        self.built = True

    def call(self, inputs):
        _check_length(self.name, inputs.shape[1], self.max_length)
        length = ops.shape(inputs)[1]
        signal = ops.cast(ops.convert_to_tensor(self.table)[:length], inputs.dtype)  # (T, D)
        return inputs + signal[None]

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_length": self.max_length})
        return config


@keras.saving.register_keras_serializable(package="tfx_transformers")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned (max_length, D) position embedding to `inputs` (B, T, D)."""

    def __init__(self, max_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        _check_length(self.name, inputs_shape[1], self.max_length)
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )
        self.built = True

    def call(self, inputs):
        _check_length(self.name, inputs.shape[1], self.max_length)
        length = ops.shape(inputs)[1]
        signal = ops.cast(self.position_embeddings[:length], inputs.dtype)  # (T, D)
        return inputs + signal[None]

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="tfx_transformers")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token ids (B, T) -> token embedding + learned position embedding (B, T, D).

    With `mask_zero`, id 0 is padding: the output carries the mask `ids != 0`, which
    attention layers downstream pick up as their padding mask.
    """

    def __init__(self, vocabulary_size, max_length, embedding_dim, mask_zero=True, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.embedding_dim = embedding_dim
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero

    def build(self, inputs_shape):
        self.token_embedding = keras.layers.Embedding(
            self.vocabulary_size, self.embedding_dim, dtype=self.dtype_policy, name="token_embedding"
        )
        self.token_embedding.build(inputs_shape)
        self.position_embedding = PositionEmbedding(
            self.max_length, dtype=self.dtype_policy, name="position_embedding"
        )
        self.position_embedding.build((*inputs_shape, self.embedding_dim))
        self.built = True

    def call(self, inputs):
        return self.position_embedding(self.token_embedding(inputs))

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, inputs_shape):
        return (*inputs_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "max_length": self.max_length,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
            }
        )
        return config
