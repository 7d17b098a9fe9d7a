"""Images as a tensorflow-transform `preprocessing_fn`: decode, resize, scale, normalize.

Encoded bytes (PNG or JPEG, any size) -> (B, H, W, C) float pixels: decoded with
`tf.io.decode_image` to `vision.channels` channels (RGB becomes grayscale and back as
needed), resized to `vision.image_size`, scaled to [0, 1], then standardized with the
per-channel mean and standard deviation of the train split (Transform analyzes train
only). The same graph runs at serving, so a client sends the file's bytes as they are.
Augmentation (random affine transforms) belongs in training (models/vision_transformer.py), not here.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.classification import label_ids
from tasks.vision import features
from tasks.vision.config import VisionConfig


def decode_images(encoded: tf.Tensor, vision: VisionConfig) -> tf.Tensor:
    """(B,) encoded images -> (B, H, W, C) float32 in [0, 1]."""
    height, width = vision.image_size

    def decode(one: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_image(one, channels=vision.channels, expand_animations=False)  # (h, w, C) uint8
        image = tf.image.convert_image_dtype(image, tf.float32)  # [0, 1]
        return tf.image.resize(image, (height, width))  # a no-op at the configured size

    pixels = tf.map_fn(decode, encoded, fn_output_signature=tf.TensorSpec((height, width, vision.channels), tf.float32))
    return tf.ensure_shape(pixels, (None, height, width, vision.channels))


def transform_images(inputs: dict, vision: VisionConfig) -> dict:
    pixels = decode_images(tf.squeeze(inputs[features.IMAGE_KEY], axis=1), vision)  # (B, H, W, C)
    per_channel = tf.reshape(pixels, (-1, vision.channels))  # (B*H*W, C)
    mean = tft.mean(per_channel, reduce_instance_dims=False)  # (C,), train split
    std = tf.sqrt(tft.var(per_channel, reduce_instance_dims=False))  # (C,)
    return {
        features.transformed_key(features.IMAGE_KEY): (pixels - mean) / tf.maximum(std, 1e-6),
        features.transformed_key(features.LABEL_KEY): label_ids(inputs),  # (B,)
    }


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """TFX entry point; `custom_config` is `PipelineConfig.to_dict()`."""
    return transform_images(inputs, VisionConfig(**custom_config["vision"]))
