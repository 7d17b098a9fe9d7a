"""Transformer encoder: a bidirectional EncoderLayer and a stack of them."""
from __future__ import annotations

import keras

from models.layers.transformer_block import TransformerBlock, keras_mask


@keras.saving.register_keras_serializable(package="tfx_transformers")
class EncoderLayer(TransformerBlock):
    """A non-causal TransformerBlock: every position attends to every real position."""

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
        kwargs.pop("causal", None)  # an encoder is never causal
        super().__init__(
            num_heads,
            intermediate_dim,
            dropout=dropout,
            norm_first=norm_first,
            activation=activation,
            layer_norm_epsilon=layer_norm_epsilon,
            causal=False,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["causal"]
        return config


@keras.saving.register_keras_serializable(package="tfx_transformers")
class Encoder(keras.layers.Layer):
    """`num_layers` EncoderLayers over `x` (B, T, D) -> (B, T, D).

    With `norm_first`, a final LayerNormalization closes the stack (pre-norm layers
    leave their residual stream unnormalized).
    """

    def __init__(
        self,
        num_layers,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        norm_first=False,
        activation="relu",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 1:
            raise ValueError(f"`num_layers` ({num_layers}) must be >= 1.")
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def build(self, x_shape):
        self.encoder_layers = []
        for i in range(self.num_layers):
            layer = EncoderLayer(
                self.num_heads,
                self.intermediate_dim,
                dropout=self.dropout,
                norm_first=self.norm_first,
                activation=self.activation,
                layer_norm_epsilon=self.layer_norm_epsilon,
                dtype=self.dtype_policy,
                name=f"encoder_layer_{i}",
            )
            layer.build(x_shape)
            self.encoder_layers.append(layer)
        self.final_norm = None
        if self.norm_first:
            self.final_norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="final_norm"
            )
            self.final_norm.build(x_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        """`padding_mask` (B, T): 1 for real positions; defaults to `x`'s Keras mask."""
        if padding_mask is None:
            padding_mask = keras_mask(x)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=padding_mask, training=training)
        return x if self.final_norm is None else self.final_norm(x)

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "norm_first": self.norm_first,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
