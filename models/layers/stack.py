"""The shared part of `Encoder` and `Decoder`: N identical layers and, pre-norm, a final norm."""
from __future__ import annotations

import keras

from models.layers.base import TransformerLayerBase


class LayerStack(TransformerLayerBase):
    """Stores the per-layer arguments once and builds `num_layers` copies of a layer.

    With `norm_first`, a final LayerNormalization closes the stack (pre-norm layers
    leave their residual stream unnormalized).
    """

    def __init__(self, num_layers, *args, **kwargs):
        """`num_layers`, then the arguments of every layer (TransformerLayerBase)."""
        super().__init__(*args, **kwargs)
        if num_layers < 1:
            raise ValueError(f"`num_layers` ({num_layers}) must be >= 1.")
        self.num_layers = num_layers

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
        return {**super().get_config(), "num_layers": self.num_layers}
