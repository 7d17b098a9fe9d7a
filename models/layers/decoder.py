"""Transformer decoder: causal self-attention, cross-attention over the encoder, feed-forward."""
from __future__ import annotations

import keras

from models.layers.attention import MultiHeadAttention
from models.layers.base import ResidualBlock, check_heads, keras_mask
from models.layers.stack import LayerStack


@keras.saving.register_keras_serializable(package="tfx_transformers")
class DecoderLayer(ResidualBlock):
    """One decoder layer: `x` (B, T, D) attends to itself causally, then to
    `encoder_output` (B, S, De); returns (B, T, D).

    Pre- or post-norm by `norm_first`, as in TransformerBlock.
    """

    def build(self, x_shape, encoder_output_shape):
        hidden_dim = x_shape[-1]
        check_heads(hidden_dim, self.num_heads)
        head_dim = hidden_dim // self.num_heads
        self.self_attention = MultiHeadAttention(
            self.num_heads, head_dim, dropout=self.dropout, dtype=self.dtype_policy,
            name="self_attention",
        )
        self.self_attention.build(x_shape, x_shape)
        self.self_attention_norm = self._norm("self_attention_norm", x_shape)
        self.cross_attention = MultiHeadAttention(
            self.num_heads, head_dim, dropout=self.dropout, output_shape=hidden_dim,
            dtype=self.dtype_policy, name="cross_attention",
        )
        self.cross_attention.build(x_shape, encoder_output_shape)
        self.cross_attention_norm = self._norm("cross_attention_norm", x_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self._build_feedforward(x_shape)
        self.built = True

    def call(
        self,
        x,
        encoder_output,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        training=None,
    ):
        """Padding masks are (B, T) and (B, S), 1 = real; they default to the Keras masks."""
        if decoder_padding_mask is None:
            decoder_padding_mask = keras_mask(x)
        if encoder_padding_mask is None:
            encoder_padding_mask = keras_mask(encoder_output)

        def self_attend(h):
            h = self.self_attention(
                h, h, value_mask=decoder_padding_mask, use_causal_mask=True, training=training
            )
            return self.attention_dropout(h, training=training)

        def cross_attend(h):
            h = self.cross_attention(
                h, encoder_output, value_mask=encoder_padding_mask, training=training
            )
            return self.attention_dropout(h, training=training)

        x = self._residual(x, self_attend, self.self_attention_norm)
        x = self._residual(x, cross_attend, self.cross_attention_norm)
        return self._feedforward_residual(x, training)

    def compute_output_shape(self, x_shape, encoder_output_shape):
        return x_shape

    def compute_mask(self, x, encoder_output, decoder_padding_mask=None, **kwargs):
        return decoder_padding_mask if decoder_padding_mask is not None else keras_mask(x)


@keras.saving.register_keras_serializable(package="tfx_transformers")
class Decoder(LayerStack):
    """`num_layers` DecoderLayers; same call signature as DecoderLayer."""

    def build(self, x_shape, encoder_output_shape):
        self.decoder_layers = self.build_layers(DecoderLayer, "decoder_layer", x_shape, encoder_output_shape)
        self.built = True

    def call(
        self,
        x,
        encoder_output,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        training=None,
    ):
        if decoder_padding_mask is None:
            decoder_padding_mask = keras_mask(x)
        if encoder_padding_mask is None:
            encoder_padding_mask = keras_mask(encoder_output)
        for layer in self.decoder_layers:
            x = layer(
                x,
                encoder_output,
                decoder_padding_mask=decoder_padding_mask,
                encoder_padding_mask=encoder_padding_mask,
                training=training,
            )
        return self.normalize(x)

    def compute_output_shape(self, x_shape, encoder_output_shape):
        return x_shape

    def compute_mask(self, x, encoder_output, decoder_padding_mask=None, **kwargs):
        return decoder_padding_mask if decoder_padding_mask is not None else keras_mask(x)
