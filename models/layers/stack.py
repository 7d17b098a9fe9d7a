"""The shared part of `Encoder` and `Decoder`: N identical layers and, pre-norm, a final norm."""
from __future__ import annotations

import keras


class LayerStack(keras.layers.Layer):
    """Stores the per-layer arguments once and builds `num_layers` copies of a layer.

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

    def build_layers(self, layer_cls, prefix: str, x_shape, *other_shapes) -> list:
        """`num_layers` built `layer_cls` layers named `<prefix>_<i>`, and the final norm."""
        layers = []
        for i in range(self.num_layers):
            layer = layer_cls(
                self.num_heads,
                self.intermediate_dim,
                dropout=self.dropout,
                norm_first=self.norm_first,
                activation=self.activation,
                layer_norm_epsilon=self.layer_norm_epsilon,
                dtype=self.dtype_policy,
                name=f"{prefix}_{i}",
            )
            layer.build(x_shape, *other_shapes)
            layers.append(layer)
        self.final_norm = None
        if self.norm_first:
            self.final_norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="final_norm"
            )
            self.final_norm.build(x_shape)
        return layers

    def normalize(self, x):
        return x if self.final_norm is None else self.final_norm(x)

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
