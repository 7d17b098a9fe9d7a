"""Channel independence: every series of a window goes through the same network on its own."""
from __future__ import annotations

from keras import ops


def fold_channels(x):
    """(B, T, N) -> (B*N, T): one row per window and channel."""
    return ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, x.shape[1]))


def unfold_channels(y, num_channels: int):
    """(B*N, H) -> (B, H, N)."""
    return ops.transpose(ops.reshape(y, (-1, num_channels, y.shape[-1])), (0, 2, 1))
