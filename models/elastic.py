"""Elastic distortions of images (Simard, Steinkraus and Platt, 2003, "Best practices for
convolutional neural networks applied to visual document analysis", section 2).

Each pixel is moved by its own displacement: a field of uniform noise in [-1, 1], smoothed by a
Gaussian of `sigma` pixels and scaled by `alpha` pixels, so that neighbouring pixels move together
and a stroke bends instead of breaking apart. On 28x28 digits the paper used sigma 4 and alpha 34
and reports it as the augmentation that helped most beyond affine transforms. Everything is
plain TF ops on whole batches, for the training input pipeline; nothing here is exported.
"""
from __future__ import annotations

import tensorflow as tf

TRUNCATE = 4.0  # the Gaussian kernel reaches TRUNCATE * sigma pixels each side (scipy's default)


def gaussian_kernel(sigma: float) -> tf.Tensor:
    """(2 r + 1,) normalised Gaussian weights, r = round(TRUNCATE * sigma)."""
    radius = int(TRUNCATE * sigma + 0.5)
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)  # (K,)
    weights = tf.exp(-0.5 * tf.square(offsets / sigma))
    return weights / tf.reduce_sum(weights)


def displacements(noise: tf.Tensor, alpha: float, sigma: float) -> tf.Tensor:
    """noise (B, H, W, 2) uniform in [-1, 1] -> (B, H, W, 2) displacements (dx, dy) in pixels.

    A separable Gaussian blur, rows then columns, zero beyond the image (as scipy's
    `gaussian_filter(mode="constant")` in the paper's usual implementation), times alpha."""
    kernel = gaussian_kernel(sigma)  # (K,)
    size = tf.shape(kernel)[0]
    channels = noise.shape[-1]
    down = tf.tile(tf.reshape(kernel, (size, 1, 1, 1)), (1, 1, channels, 1))  # (K, 1, 2, 1): depthwise
    across = tf.tile(tf.reshape(kernel, (1, size, 1, 1)), (1, 1, channels, 1))  # (1, K, 2, 1)
    field = tf.nn.depthwise_conv2d(noise, down, strides=(1, 1, 1, 1), padding="SAME")
    field = tf.nn.depthwise_conv2d(field, across, strides=(1, 1, 1, 1), padding="SAME")
    return alpha * field  # (B, H, W, 2)


def warp(images: tf.Tensor, moves: tf.Tensor) -> tf.Tensor:
    """images (B, H, W, C), moves (B, H, W, 2) as (dx, dy) -> (B, H, W, C): output pixel (y, x)
    read bilinearly from the input at (y + dy, x + dx); reads beyond the image take the nearest
    edge pixel (a digit's background), as the affine augmentation's fill does."""
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    rows, cols = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")  # (H, W) each
    x = tf.clip_by_value(tf.cast(cols, tf.float32) + moves[..., 0], 0.0, tf.cast(width - 1, tf.float32))  # (B, H, W)
    y = tf.clip_by_value(tf.cast(rows, tf.float32) + moves[..., 1], 0.0, tf.cast(height - 1, tf.float32))
    x0, y0 = tf.floor(x), tf.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]  # (B, H, W, 1): weights of the next column, row
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1, y1 = tf.minimum(x0 + 1, width - 1), tf.minimum(y0 + 1, height - 1)
    flat = tf.reshape(images, (batch, height * width, channels))  # (B, H*W, C)

    def read(ys, xs):  # (B, H, W) indices -> (B, H, W, C)
        index = tf.reshape(ys * width + xs, (batch, height * width))
        return tf.reshape(tf.gather(flat, index, batch_dims=1), shape)

    top = (1.0 - wx) * read(y0, x0) + wx * read(y0, x1)
    bottom = (1.0 - wx) * read(y1, x0) + wx * read(y1, x1)
    return (1.0 - wy) * top + wy * bottom


def distort(images: tf.Tensor, seed: tf.Tensor, alpha: float, sigma: float) -> tf.Tensor:
    """images (B, H, W, C) each elastically distorted by its own field, drawn from the stateless
    `seed` (2,)."""
    shape = tf.shape(images)
    noise = tf.random.stateless_uniform((shape[0], shape[1], shape[2], 2), seed, -1.0, 1.0)  # (B, H, W, 2)
    return warp(images, displacements(noise, alpha, sigma))
