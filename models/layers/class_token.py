"""ClassToken: a learned token put in front of a sequence, whose output a ViT classifies."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfx_transformers")
class ClassToken(keras.layers.Layer):
    """(B, N, D) -> (B, 1 + N, D): one learned (D,) vector prepended to every sequence.

    Attention lets it gather what the whole image says; the head reads only it
    (Dosovitskiy et al., 2021, after BERT's [CLS]). It starts at zero, as in the paper's code.
    """

    def build(self, inputs_shape):
        self.token = self.add_weight(name="token", shape=(1, 1, inputs_shape[-1]), initializer="zeros")
        self.built = True

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        token = ops.cast(ops.broadcast_to(self.token, (batch, 1, ops.shape(inputs)[-1])), inputs.dtype)  # (B, 1, D)
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, inputs_shape):
        length = None if inputs_shape[1] is None else inputs_shape[1] + 1
        return (inputs_shape[0], length, inputs_shape[-1])
