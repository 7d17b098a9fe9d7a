"""What every transformer layer and stack shares: six arguments, residual sublayers, feed-forward.

`TransformerLayerBase` stores the arguments once and serializes them; `ResidualBlock`
adds the LayerNorm-and-residual wrapping (pre- or post-norm) and the position-wise
feed-forward network that TransformerBlock and DecoderLayer both use.
"""
from __future__ import annotations

import keras


def keras_mask(x):
    """The Keras padding mask attached to `x` by an upstream layer, or None."""
    return getattr(x, "_keras_mask", None)


def check_heads(hidden_dim, num_heads):
    if hidden_dim % num_heads != 0:
        raise ValueError(
            f"`hidden_dim` ({hidden_dim}) must be divisible by `num_heads` ({num_heads}): "
            "change the input width or the number of heads."
        )


class TransformerLayerBase(keras.layers.Layer):
    """Stores the arguments shared by blocks and stacks; `get_config` mirrors them."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        norm_first=False,
        activation="relu",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "norm_first": self.norm_first,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config


class ResidualBlock(TransformerLayerBase):
    """Sublayers wrapped as x + sublayer(x) with a LayerNorm, and the feed-forward network."""

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def _residual(self, x, sublayer, norm):
        """x + sublayer(x), with the LayerNorm before (pre-norm) or after (post-norm)."""
        if self.norm_first:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x))

    def _build_feedforward(self, x_shape):
        hidden_dim = x_shape[-1]
        self.feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            dtype=self.dtype_policy,
            name="feedforward_intermediate_dense",
        )
        self.feedforward_intermediate_dense.build(x_shape)
        self.feedforward_output_dense = keras.layers.Dense(
            hidden_dim, dtype=self.dtype_policy, name="feedforward_output_dense"
        )
        self.feedforward_output_dense.build((*x_shape[:-1], self.intermediate_dim))
        self.feedforward_norm = self._norm("feedforward_norm", x_shape)
        self.feedforward_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _feedforward(self, x, training):
        h = self.feedforward_intermediate_dense(x)  # (B, T, intermediate_dim)
        return self.feedforward_dropout(self.feedforward_output_dense(h), training=training)

    def _feedforward_residual(self, x, training):
        return self._residual(x, lambda h: self._feedforward(h, training), self.feedforward_norm)
