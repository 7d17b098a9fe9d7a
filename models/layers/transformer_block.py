"""TransformerBlock: self-attention + feed-forward, each with a residual and a LayerNorm."""
from __future__ import annotations

import keras

from models.layers.attention import MultiHeadAttention
from models.layers.base import ResidualBlock, check_heads, keras_mask


@keras.saving.register_keras_serializable(package="tfx_transformers")
class TransformerBlock(ResidualBlock):
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
        super().__init__(
            num_heads, intermediate_dim, dropout, norm_first, activation, layer_norm_epsilon, **kwargs
        )
        self.causal = causal

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
        self._build_feedforward(x_shape)
        self.built = True

    def _self_attend(self, x, padding_mask, training):
        return self.self_attention_dropout(
            self.self_attention(
                x, x, value_mask=padding_mask, use_causal_mask=self.causal, training=training
            ),
            training=training,
        )

    def call(self, x, padding_mask=None, training=None):
        """`padding_mask` (B, T): 1 for real positions; defaults to `x`'s Keras mask."""
        if padding_mask is None:
            padding_mask = keras_mask(x)
        x = self._residual(
            x, lambda h: self._self_attend(h, padding_mask, training), self.self_attention_norm
        )
        return self._feedforward_residual(x, training)

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "causal": self.causal}
