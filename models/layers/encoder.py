"""Transformer encoder: a bidirectional EncoderLayer and a stack of them."""
from __future__ import annotations

import keras

from models.layers.base import keras_mask
from models.layers.stack import LayerStack
from models.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="tfx_transformers")
class EncoderLayer(TransformerBlock):
    """A non-causal TransformerBlock: every position attends to every real position."""

    def __init__(self, *args, **kwargs):
        """TransformerBlock's arguments without `causal`: an encoder is never causal."""
        kwargs.pop("causal", None)
        super().__init__(*args, causal=False, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["causal"]
        return config


@keras.saving.register_keras_serializable(package="tfx_transformers")
class Encoder(LayerStack):
    """`num_layers` EncoderLayers over `x` (B, T, D) -> (B, T, D)."""

    def build(self, x_shape):
        self.encoder_layers = self.build_layers(EncoderLayer, "encoder_layer", x_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        """`padding_mask` (B, T): 1 for real positions; defaults to `x`'s Keras mask."""
        if padding_mask is None:
            padding_mask = keras_mask(x)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=padding_mask, training=training)
        return self.normalize(x)

    def compute_output_shape(self, x_shape):
        return x_shape
