"""Blocks every image classifier here shares: the 3x3 Conv-BN-ReLU block (the ViT's stem and the
small CNN are built of it) and the optimizer and loss they are compiled with."""
from __future__ import annotations

import keras

from models.schedules import warmup_cosine

# Batch norm's moving statistics keep this much of their last value each step. Keras's 0.99
# needs hundreds of steps to forget its start (mean 0, variance 1): after the Tuner's two
# epochs of 63 steps, eval accuracy was 0.10-0.30 at train accuracy 0.95, and trials were
# ranked on that. At 0.9 (PyTorch's default) eval tracks train within a few dozen steps.
BN_MOMENTUM = 0.9
# Batches one call of the compiled train/eval step runs (Keras `steps_per_execution`): these
# models' steps are short enough that Keras's per-call overhead was over half of each; 8 trained
# the ViT 2.2 times as fast as 1 on two cores (docs/notes/vision-experiments.md, "Speed"). The
# small CNN gets the same, so that the bench compares the models, not their dispatch.
STEPS_PER_EXECUTION = 8
# The moving average of the weights spans at most this fraction of a training's optimizer
# steps (its horizon is 1 / (1 - momentum) steps): Keras's average starts from the first step's
# weights, without bias correction, so over a short training (a Tuner trial of one epoch, a
# test) a long horizon would still hold the early weights.
AVERAGE_SPAN = 0.2


def compile_classifier(
    model: keras.Model, config, steps_per_execution: int = STEPS_PER_EXECUTION
) -> keras.Model:
    """AdamW with warmup + cosine decay, and an exponential moving average of the weights when
    `config.ema_momentum` > 0; cross-entropy on integer labels, with label smoothing;
    `steps_per_execution` batches a call of the compiled step, in fit and evaluate."""
    momentum = averaging_momentum(config.ema_momentum, config.decay_steps)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine(config.learning_rate, config.decay_steps, config.warmup_fraction),
            weight_decay=config.weight_decay,
            use_ema=momentum > 0,  # training.fit evaluates and keeps the average
            ema_momentum=momentum,
        ),
        loss=SmoothedSparseCrossEntropy(config.label_smoothing, name="loss"),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def averaging_momentum(momentum: float, steps: int) -> float:
    """The weight average's momentum for a training of `steps` optimizer steps: `momentum`,
    lowered so that the horizon is at most AVERAGE_SPAN of them; 0 (no average) when `momentum`
    is 0 or the training is too short to average."""
    if momentum <= 0:
        return 0.0
    return max(0.0, min(momentum, 1 - 1 / (AVERAGE_SPAN * steps)))


@keras.saving.register_keras_serializable(package="tfx_transformers")
class SmoothedSparseCrossEntropy(keras.losses.Loss):
    """Cross-entropy of integer labels (B,) against probabilities (B, C), with label smoothing."""

    def __init__(self, label_smoothing: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        one_hot = keras.ops.one_hot(keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,)), classes)  # (B, C)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def conv_block(x, filters: int, pool: bool, name: str | None = None):
    """(B, H, W, C) -> (B, H', W', filters): a 3x3 Conv-BN-ReLU, then a 2x2 max pooling
    (H' = H/2) if `pool`. The ViT's stem and the small CNN are built of the same block."""
    named = (lambda suffix: f"{name}{suffix}") if name else (lambda suffix: None)
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=named(""))(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=named("_norm"))(x)
    x = keras.layers.ReLU(name=named("_relu"))(x)
    return keras.layers.MaxPooling2D(name=named("_pool"))(x) if pool else x
