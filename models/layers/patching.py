"""1-D patching of univariate series (PatchTST; Nie et al., ICLR 2023).

A series of `T` steps becomes `P` overlapping patches of `patch_length` steps taken
every `stride` steps. As in PatchTST, the series is first padded at its end with
`stride` copies of its last value, so the most recent values always fall in a patch:

    P = (T + stride - patch_length) // stride + 1

This is not the image `PatchEmbedding`: patches are 1-D, overlap, and are not projected here.
"""
from __future__ import annotations

import keras
from keras import ops


def num_patches(length: int, patch_length: int, stride: int) -> int:
    """Patches of a padded series of `length` steps; raises when no patch fits."""
    if min(patch_length, stride) < 1:
        raise ValueError(f"`patch_length` ({patch_length}) and `stride` ({stride}) must be >= 1")
    if patch_length > length + stride:
        raise ValueError(
            f"`patch_length` ({patch_length}) must be <= lookback + stride ({length} + {stride}): "
            "use shorter patches or a longer lookback."
        )
    return (length + stride - patch_length) // stride + 1


@keras.saving.register_keras_serializable(package="tfx_transformers")
class Patching(keras.layers.Layer):
    """(B, T) series -> (B, P, patch_length) patches."""

    def __init__(self, patch_length, stride, **kwargs):
        super().__init__(**kwargs)
        self.patch_length = patch_length
        self.stride = stride

    def call(self, series):
        length = series.shape[-1]
        count = num_patches(length, self.patch_length, self.stride)
        padded = ops.concatenate([series, ops.repeat(series[:, -1:], self.stride, axis=1)], axis=1)  # (B, T + S)
        starts = [p * self.stride for p in range(count)]
        # Gather-free: P static slices stacked on a new axis.
        return ops.stack([padded[:, s : s + self.patch_length] for s in starts], axis=1)  # (B, P, L)

    def compute_output_shape(self, series_shape):
        count = num_patches(series_shape[-1], self.patch_length, self.stride)
        return (series_shape[0], count, self.patch_length)

    def get_config(self):
        return {**super().get_config(), "patch_length": self.patch_length, "stride": self.stride}
