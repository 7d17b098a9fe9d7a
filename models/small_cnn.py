"""A small CNN image classifier: the convolutional baseline a ViT is measured against.

Conv-BN-ReLU blocks with max pooling, global average pooling and a softmax head, trained
with the ViT's augmentation (`augment_batches`) and optimizer (`compile_classifier`),
so the benchmark compares architectures, not recipes.
"""
from __future__ import annotations

import dataclasses

import keras

from models.image_blocks import compile_classifier, conv_block


@dataclasses.dataclass
class SmallCNNConfig:
    image_size: tuple[int, int]
    channels: int
    num_classes: int
    filters: tuple[int, ...] = (32, 64, 128, 128)  # one conv block each, a 2x2 pooling after all but the last
    dropout: float = 0.1
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.0
    ema_momentum: float = 0.0  # > 0: the moving average of the weights is evaluated and kept
    decay_steps: int = 1000
    warmup_fraction: float = 0.1


def parameter_count(filters: tuple[int, ...], channels: int, num_classes: int) -> int:
    """What `build_small_cnn` gives: per block a bias-free 3x3 convolution and batch norm's
    four vectors; then the head. It does not depend on the image size."""
    count, inputs = 0, channels
    for width in filters:
        count, inputs = count + 9 * inputs * width + 4 * width, width
    return count + inputs * num_classes + num_classes


def filters_sized_to(target: int, channels: int, num_classes: int, base=SmallCNNConfig.filters) -> tuple[int, ...]:
    """`base`'s widths scaled by one factor (each a multiple of 8) so that the CNN's parameter
    count is the closest to `target`: a benchmark then compares architectures of similar size,
    whatever size the Tuner picked for the ViT."""
    candidates = [
        tuple(max(8, round(width * step / 100 / 8) * 8) for width in base) for step in range(50, 301, 5)
    ]  # factors 0.5 to 3
    return min(candidates, key=lambda f: abs(parameter_count(f, channels, num_classes) - target))


def build_small_cnn(config: SmallCNNConfig) -> keras.Model:
    images = keras.Input((*config.image_size, config.channels), name="pixels")
    x = images
    for index, filters in enumerate(config.filters):
        x = conv_block(x, filters, pool=index < len(config.filters) - 1)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(config.dropout)(x)
    probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(x)
    return compile_classifier(keras.Model(images, probabilities, name="small_cnn"), config)
