"""TransformerBlock: self-attention + feed-forward, each with a residual and a LayerNorm."""
from __future__ import annotations

import keras

from models.layers.attention import MultiHeadAttention


def keras_mask(x):
    """The Keras padding mask attached to `x` by an upstream layer, or None."""
    return getattr(x, "_keras_mask", None)


def check_heads(hidden_dim, num_heads):
    if hidden_dim % num_heads != 0:
        raise ValueError(
            f"`hidden_dim` ({hidden_dim}) must be divisible by `num_heads` ({num_heads}): "
            "change the input width or the number of heads."
        )


@keras.saving.register_keras_serializable(package="tfx_transformers")
class TransformerBlock(keras.layers.Layer):
    """One transformer layer over `x` (B, T, D) -> (B, T, D).

    Post-norm (`norm_first=False`, the original paper) normalizes after each residual
    add; pre-norm (`norm_first=True`) normalizes each sublayer's input, which trains
    more stably for deep stacks. `causal=True` lets position t see positions <= t only.

    Args:
        num_heads: attention heads; the input width D must be divisible by it.
        intermediate_dim: hidden width of the feed-forward network.
        dropout: dropout rate on attention probabilities and sublayer outputs.
        norm_first: pre-norm if True, post-norm otherwise.
        activation: activation of the feed-forward hidden layer.
        layer_norm_epsilon: epsilon of the LayerNormalizations.
        causal: mask future positions in self-attention.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        norm_first=False,
        activation="relu",
        layer_norm_epsilon=1e-5,
        causal=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.causal = causal
        self.supports_masking = True

    def build(self, x_shape):
        hidden_dim = x_shape[-1]
        check_heads(hidden_dim, self.num_heads)
        self.self_attention = MultiHeadAttention(
            self.num_heads,
            hidden_dim // self.num_heads,
            dropout=self.dropout,
            dtype=self.dtype_policy,
            name="self_attention",
        )
        self.self_attention.build(x_shape, x_shape)
        self.self_attention_norm = self._norm("self_attention_norm", x_shape)
        self.self_attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
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
        self.built = True

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

    def _self_attend(self, x, padding_mask, training):
        return self.self_attention_dropout(
            self.self_attention(
                x, x, value_mask=padding_mask, use_causal_mask=self.causal, training=training
            ),
            training=training,
        )

    def _feedforward(self, x, training):
        h = self.feedforward_intermediate_dense(x)  # (B, T, intermediate_dim)
        return self.feedforward_dropout(self.feedforward_output_dense(h), training=training)

    def call(self, x, padding_mask=None, training=None):
        """`padding_mask` (B, T): 1 for real positions; defaults to `x`'s Keras mask."""
        if padding_mask is None:
            padding_mask = keras_mask(x)
        x = self._residual(
            x, lambda h: self._self_attend(h, padding_mask, training), self.self_attention_norm
        )
        return self._residual(x, lambda h: self._feedforward(h, training), self.feedforward_norm)

    def compute_output_shape(self, x_shape):
        return x_shape

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
                "causal": self.causal,
            }
        )
        return config
