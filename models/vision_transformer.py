"""Vision Transformer (Dosovitskiy et al., 2021): images (B, H, W, C) -> class probabilities (B, C).

[convolutional stem] -> PatchEmbedding (non-overlapping patches, each projected to D, plus
learned positions) -> [ClassToken] -> pre-norm TransformerBlocks -> LayerNorm -> the class
token, or the mean of the patch tokens -> softmax.
On small data sets a ViT has none of a CNN's built-in locality, so it leans on a small
convolutional stem (the paper's hybrid, section 3.1; Xiao et al., 2021; Hassani et al., 2021,
"Escaping the big data paradigm with compact transformers"), augmentation
(`augment_batches`: random affine transforms of the training batches, outside the model so
that nothing random is exported), dropout, label smoothing, weight decay and a warmup + cosine schedule.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf

from models import elastic
from models.image_blocks import STEPS_PER_EXECUTION, compile_classifier, conv_block
from models.layers import ClassToken, PatchEmbedding, TransformerBlock

POOLINGS = ("token", "mean")


@dataclasses.dataclass
class VisionTransformerConfig:
    image_size: tuple[int, int]  # (H, W), each divisible by patch_size
    channels: int  # C
    num_classes: int  # >= 2
    patch_size: int = 4  # a patch_size x patch_size square becomes one token
    # Channels of 3x3 Conv-BN-ReLU layers before patching; () none. Where patch_size allows,
    # they also downsample: see `stem_pools`.
    stem: tuple[int, ...] = ()
    pooling: str = "token"  # "token": the class token's output (the paper); "mean": the mean of the patch tokens
    model_dim: int = 64  # D; divisible by num_heads
    num_layers: int = 4
    num_heads: int = 4
    mlp_dim: int = 128  # feed-forward width
    dropout: float = 0.0
    learning_rate: float = 2e-3  # peak, after warmup
    weight_decay: float = 0.01  # AdamW
    label_smoothing: float = 0.0
    decay_steps: int = 1000  # warmup + cosine decay length in optimizer steps (the trainer's total)
    warmup_fraction: float = 0.1
    ema_momentum: float = 0.0  # > 0: evaluate and keep an exponential moving average of the weights
    steps_per_execution: int = STEPS_PER_EXECUTION  # batches a call of the compiled step (image_blocks)

    def validate(self) -> None:
        height, width = self.image_size
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"image size {tuple(self.image_size)} must be divisible by patch_size ({self.patch_size}): "
                "change vision.image_size (Transform resizes) or model.patch_size"
            )
        if self.model_dim % self.num_heads:
            raise ValueError(f"`model_dim` ({self.model_dim}) must be divisible by `num_heads` ({self.num_heads})")
        if self.pooling not in POOLINGS:
            raise ValueError(f"`model.pooling` {self.pooling!r} must be one of {list(POOLINGS)}")
        if not 0 <= self.ema_momentum < 1:
            raise ValueError(f"`ema_momentum` (model.ema: {self.ema_momentum}) must be in [0, 1); 0 trains without the average")
        if self.steps_per_execution < 1:
            raise ValueError(f"`steps_per_execution` ({self.steps_per_execution}) must be >= 1")
        if self.num_classes < 2:
            raise ValueError(f"`num_classes` ({self.num_classes}) must be >= 2")

    @property
    def stem_pools(self) -> int:
        """How many stem layers end in a 2x2 max pooling: as many as halve patch_size evenly
        (patch 4 with a two-layer stem: both, and each token is one pixel of the 1/4-size
        feature map; patch 7: none). A token still covers patch_size x patch_size pixels, so
        the patch count does not depend on the stem."""
        pools, patch = 0, self.patch_size
        while pools < len(self.stem) and patch % 2 == 0:
            pools, patch = pools + 1, patch // 2
        return pools

    @property
    def num_patches(self) -> int:
        return (self.image_size[0] // self.patch_size) * (self.image_size[1] // self.patch_size)


@dataclasses.dataclass
class Augmentation:
    """Random affine transforms of training images (`augment_batches`), each drawn per image
    from a uniform range around the identity, then optionally an elastic distortion: the classic
    distortions of small-data digit recognition (Simard et al., 2003; LeCun et al., 1998), each a
    `model.` key of the task."""

    shift: float = 0.1  # dx, dy drawn from [-shift, shift] of the width and height: 0.1 of 28 px is up to 2.8 px
    rotation: float = 10.0  # degrees, drawn from [-rotation, rotation] about the image's centre
    scale: float = 0.1  # zoom drawn from [1 - scale, 1 + scale] about the centre (> 1: larger)
    shear: float = 0.0  # degrees of horizontal shear (x += tan(angle) * y), drawn from [-shear, shear]
    elastic: float = 0.0  # pixels: alpha of the elastic distortion after the affine one (models/elastic.py); 0: none
    elastic_sigma: float = 4.0  # pixels: how smooth its displacement field is (Simard et al.: alpha 34, sigma 4)

    def validate(self) -> None:
        values = dataclasses.asdict(self)
        not_numbers = [f"`model.{k}` ({v!r})" for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)]
        if not_numbers:
            raise ValueError("augmentation ranges must be numbers: " + ", ".join(not_numbers))
        negative = {key: value for key, value in values.items() if value < 0}
        if negative:
            raise ValueError("augmentation ranges must be >= 0: " + ", ".join(f"`model.{k}` ({v})" for k, v in negative.items()))
        if self.elastic_sigma <= 0:
            raise ValueError(f"`model.elastic_sigma` ({self.elastic_sigma}) must be > 0 pixels")
        if self.scale >= 1:
            raise ValueError(f"`model.scale` ({self.scale}) must be < 1: the zoom is drawn from [1 - scale, 1 + scale]")
        if self.shear >= 90:
            raise ValueError(f"`model.shear` ({self.shear}) must be < 90 degrees")

    @property
    def active(self) -> bool:
        return any((self.shift, self.rotation, self.scale, self.shear, self.elastic))


DRAWS = 5  # uniform draws in [-1, 1] an image: dx, dy, rotation, scale, shear (affine_transforms)


def affine_transforms(draws: tf.Tensor, options: Augmentation, height, width) -> tf.Tensor:
    """draws (B, 5) in [-1, 1] -> (B, 8) `ImageProjectiveTransformV3` rows [a0 a1 a2 b0 b1 b2 0 0].

    Each image is sheared, rotated and scaled about its centre, then shifted:
    out = A (in - c) + c + t, A = s R(theta) [[1, k], [0, 1]], k = tan(shear). The op reads output
    pixel p from input M (p - c - t) + c with M = A^-1 = 1/s [[1, -k], [0, 1]] R(-theta). Pixel
    centres are at integer coordinates, so c = ((W - 1) / 2, (H - 1) / 2). With y pointing down,
    a positive angle turns the image clockwise as it is shown."""
    size = tf.cast(tf.stack([width, height]), tf.float32)  # (2,): x, y
    centre = (size - 1.0) / 2.0  # (2,)
    offsets = draws[:, :2] * options.shift * size  # (B, 2): dx, dy in pixels
    theta = draws[:, 2] * options.rotation * (math.pi / 180.0)  # (B,)
    zoom = 1.0 + draws[:, 3] * options.scale  # (B,)
    k = tf.tan(draws[:, 4] * options.shear * (math.pi / 180.0))  # (B,)
    cos, sin = tf.cos(theta), tf.sin(theta)
    m00, m01 = (cos + k * sin) / zoom, (sin - k * cos) / zoom  # (B,) each: M's rows
    m10, m11 = -sin / zoom, cos / zoom
    source = centre + offsets  # (B, 2): where the input's centre lands
    a2 = centre[0] - m00 * source[:, 0] - m01 * source[:, 1]
    b2 = centre[1] - m10 * source[:, 0] - m11 * source[:, 1]
    zeros = tf.zeros_like(cos)
    return tf.stack([m00, m01, a2, m10, m11, b2, zeros, zeros], axis=1)  # (B, 8)


def transform_images(images: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
    """images (B, H, W, C), transforms (B, 8) -> (B, H, W, C): bilinear, edge pixels repeated
    (a digit's background, where the transform reads outside the image)."""
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST",
    )  # fmt: skip


def augment_batches(dataset: tf.data.Dataset, options: Augmentation, seed: int) -> tf.data.Dataset:
    """Training batches (images (B, H, W, C), labels) with each image moved by its own random affine
    transform (`Augmentation`: shift, rotation, scale, shear) and, if `elastic` is set, its own
    elastic distortion (models/elastic.py); nothing changes when no range is set.

    One `ImageProjectiveTransformV3` a batch whatever the transform, with stateless draws seeded from a
    `Dataset.random` stream that is redrawn every epoch, in a parallel `map`: the transform Keras's
    `RandomTranslation` makes, without its layer and seed-state machinery (an epoch of 4,000 digits
    through the input pipeline alone: 0.48 s against 0.78 s; the vision page of docs/)."""
    options.validate()
    if not options.active:
        return dataset
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)  # (2,) a batch

    def transform(batch, pair):
        images, labels = batch
        shape = tf.shape(images)  # (B, H, W, C)
        draws = tf.random.stateless_uniform((shape[0], DRAWS), pair, -1.0, 1.0)  # (B, 5)
        images = transform_images(images, affine_transforms(draws, options, shape[1], shape[2]))
        if options.elastic:  # its own draws: the affine ones stay as they were without it
            images = elastic.distort(images, tf.random.experimental.stateless_fold_in(pair, 1),
                                     options.elastic, options.elastic_sigma)  # fmt: skip
        return images, labels

    return tf.data.Dataset.zip((dataset, seeds)).map(transform, num_parallel_calls=tf.data.AUTOTUNE)


def build_vision_transformer(config: VisionTransformerConfig) -> keras.Model:
    """A compiled functional ViT on standardized pixels (B, H, W, C)."""
    config.validate()
    images = keras.Input((*config.image_size, config.channels), name="pixels")
    x = images
    pools = config.stem_pools
    for index, filters in enumerate(config.stem):  # (B, H', W', filters): local strokes before patching
        x = conv_block(x, filters, pool=index < pools, name=f"stem_{index}")
    x = PatchEmbedding(config.patch_size // 2**pools, config.model_dim, name="patch_embedding")(x)  # (B, N, D)
    if config.pooling == "token":
        x = ClassToken(name="class_token")(x)  # (B, 1 + N, D)
    for index in range(config.num_layers):
        x = TransformerBlock(
            config.num_heads, config.mlp_dim, dropout=config.dropout, norm_first=True, activation="gelu",
            name=f"block_{index}",
        )(x)  # fmt: skip
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    if config.pooling == "token":
        x = x[:, 0, :]  # (B, D): the class token's output
    else:
        x = keras.layers.GlobalAveragePooling1D(name="mean_token")(x)  # (B, D)
    x = keras.layers.Dropout(config.dropout)(x)  # as in the blocks; the small CNN has it here too
    probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(x)
    return compile_classifier(
        keras.Model(images, probabilities, name="vision_transformer"), config, config.steps_per_execution
    )
