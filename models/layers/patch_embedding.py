"""PatchEmbedding: images (B, H, W, C) -> patch tokens (B, num_patches, D) for a ViT."""
from __future__ import annotations

import keras
from keras import ops

from models.layers.positional import PositionEmbedding


@keras.saving.register_keras_serializable(package="tfx_transformers")
class PatchEmbedding(keras.layers.Layer):
    """Cuts an image into non-overlapping `patch_size` squares and projects each to
    `embedding_dim` (a strided Conv2D is exactly a per-patch Dense), then adds learned
    positions. H and W must be known and divisible by `patch_size`.
    """

    def __init__(self, patch_size, embedding_dim, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size
        self.embedding_dim = embedding_dim

    def build(self, inputs_shape):
        _, height, width, _ = inputs_shape
        if height is None or width is None or height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"Image size ({height}, {width}) must be known and divisible by "
                f"`patch_size` ({self.patch_size}): resize the images or change `patch_size`."
            )
        self.num_patches = (height // self.patch_size) * (width // self.patch_size)
        self.projection = keras.layers.Conv2D(
            self.embedding_dim,
            kernel_size=self.patch_size,
            strides=self.patch_size,
            dtype=self.dtype_policy,
            name="projection",
        )
        self.projection.build(inputs_shape)
        self.position_embedding = PositionEmbedding(
            self.num_patches, dtype=self.dtype_policy, name="position_embedding"
        )
        self.position_embedding.build((None, self.num_patches, self.embedding_dim))
        self.built = True

    def call(self, inputs):
        patches = self.projection(inputs)  # (B, H/p, W/p, D)
        patches = ops.reshape(patches, (-1, self.num_patches, self.embedding_dim))  # (B, N, D)
        return self.position_embedding(patches)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], self.num_patches, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size, "embedding_dim": self.embedding_dim})
        return config
