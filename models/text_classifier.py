"""Transformer encoder text classifier: token ids (B, T) -> class probabilities (B, C).

TokenAndPositionEmbedding -> Encoder (padding masked in every attention) -> mean over
the real tokens only -> dropout -> softmax. Id 0 is padding (as TextVectorization and
the text task's Transform produce), so the outputs do not depend on how much
padding follows a text.
"""
from __future__ import annotations

import dataclasses

import keras
from keras import ops

from models.layers import Encoder, TokenAndPositionEmbedding


@dataclasses.dataclass
class TextClassifierConfig:
    vocabulary_size: int  # token ids in [0, vocabulary_size); 0 padding, 1 OOV
    max_length: int  # T
    num_classes: int  # C >= 2
    num_layers: int = 1  # encoder layers
    num_heads: int = 2
    model_dim: int = 32  # embedding width D; divisible by num_heads
    intermediate_dim: int = 64  # feed-forward width
    dropout: float = 0.1
    learning_rate: float = 1e-3
    prior: bool = False  # True: a second input of (B, C) prior logits; the transformer learns the residual

    def validate(self) -> None:
        if self.model_dim % self.num_heads:
            raise ValueError(f"`model_dim` ({self.model_dim}) must be divisible by `num_heads` ({self.num_heads})")
        if self.num_classes < 2:
            raise ValueError(f"`num_classes` ({self.num_classes}) must be >= 2: a classifier needs two classes")


@keras.saving.register_keras_serializable(package="tfx_transformers")
class MaskedMeanPooling(keras.layers.Layer):
    """(B, T, D) and a (B, T) mask -> (B, D): the mean over positions where the mask is 1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # it consumes the mask: the pooled output has none

    def compute_mask(self, x, mask=None):
        return None

    def call(self, x, mask):
        weights = ops.cast(mask, x.dtype)[..., None]  # (B, T, 1)
        total = ops.sum(x * weights, axis=1)  # (B, D)
        return total / ops.maximum(ops.sum(weights, axis=1), 1.0)  # an all-padding row gives 0

    def compute_output_shape(self, x_shape, mask_shape=None):
        return (x_shape[0], x_shape[-1])


def build_text_classifier(config: TextClassifierConfig) -> keras.Model:
    """A compiled functional model on int token ids (B, max_length).

    With `prior`, the model also takes (B, C) logits of another classifier (the
    bag-of-n-grams challenger) and adds its own to them, its head starting at zero: it
    starts as that classifier, and the transformer learns what the bag of n-grams misses.
    """
    config.validate()
    ids = keras.Input((config.max_length,), dtype="int64", name="token_ids")
    padding_mask = ops.not_equal(ids, 0)  # (B, T): 1 for real tokens
    x = TokenAndPositionEmbedding(
        config.vocabulary_size, config.max_length, config.model_dim, mask_zero=True, name="embedding"
    )(ids)  # (B, T, D)
    x = keras.layers.Dropout(config.dropout)(x)
    x = Encoder(
        config.num_layers, config.num_heads, config.intermediate_dim, dropout=config.dropout, name="encoder"
    )(x, padding_mask=padding_mask)  # (B, T, D)
    x = MaskedMeanPooling(name="pooling")(x, padding_mask)  # (B, D)
    x = keras.layers.Dropout(config.dropout)(x)
    if not config.prior:
        probabilities = keras.layers.Dense(config.num_classes, activation="softmax", name="probabilities")(x)
        model = keras.Model(ids, probabilities, name="text_classifier")
    else:
        prior = keras.Input((config.num_classes,), name="prior_logits")  # (B, C)
        residual = keras.layers.Dense(config.num_classes, kernel_initializer="zeros", name="residual_logits")(x)
        logits = keras.layers.Add(name="logits")([prior, residual])
        probabilities = keras.layers.Softmax(name="probabilities")(logits)
        model = keras.Model([ids, prior], probabilities, name="text_classifier_over_prior")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
