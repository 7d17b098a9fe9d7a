"""TFX module for the vision task: `preprocessing_fn`, `tuner_fn` and `run_fn`.

Thin adapters: decoding and scaling are in `tasks.vision.preprocessing`, data
plumbing in `components.training`, the model in `models.vision_transformer`, the pixel
challenger in `tasks.vision.baseline`, the serving graph in `components.export`.
The pipeline passes `PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import keras_tuner
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult

from components import distribution, export, training
from components.classification import class_names, class_outputs, with_challenger
from data.config import PipelineConfig
from models.vision_transformer import (
    Augmentation,
    VisionTransformerConfig,
    augment_batches,
    build_vision_transformer,
)
from tasks.vision import baseline, features
from tasks.vision.preprocessing import preprocessing_fn  # noqa: F401  (Transform entry point)

PIXELS_KEY = features.transformed_key(features.IMAGE_KEY)
LABEL_ID_KEY = features.transformed_key(features.LABEL_KEY)
# Raw features a serving client does not send: only the image bytes are.
RAW_ONLY_KEYS = (
    features.LABEL_KEY, features.FILE_KEY, features.IMAGE_STATUS_KEY,
    features.IMAGE_HEIGHT_KEY, features.IMAGE_WIDTH_KEY, features.IMAGE_CHANNELS_KEY,
)  # fmt: skip
TUNER_OBJECTIVE = keras_tuner.Objective("val_accuracy", "max")
# `model.shift`, `model.rotation`, `model.scale`, `model.shear`, `model.elastic`,
# `model.elastic_sigma`: the random distortions of training images (`Augmentation`, whose
# fields hold the defaults)
AUGMENTATION_KEYS = tuple(field.name for field in dataclasses.fields(Augmentation))
# Every `model.` key this task reads (tasks/model_settings.py rejects others before a run)
MODEL_KEYS = ("stem", "pooling", "patch_size", "model_dim", "num_layers", "num_heads", "dropout", "learning_rate",
              "weight_decay", "label_smoothing", "ema", *AUGMENTATION_KEYS)  # fmt: skip
# Three 3x3 Conv-BN-ReLU layers, the first two with a 2x2 max pooling, before 1x1 patches
# of the 7x7 feature map (`model.stem`; [] for the plain ViT): on 4,000 digits the plain
# ViT underfits (test 0.94-0.96 in 40 epochs); with this stem, the mean of the tokens and
# dropout it matches the small CNN (README, "Vision").
DEFAULT_STEM = (32, 64, 128)
DEFAULT_POOLING = "mean"  # `model.pooling`; "token" reads the class token, as in the paper
# `model.ema`: the momentum of the moving average of the weights that is evaluated, kept and
# exported (0: the raw weights). 0.995 averages about the last 200 steps, 3 of the 20 epochs;
# over five seeds' eval splits it gave 0.9904 against 0.9888 for the raw weights (4 errors fewer
# in 2,500 images: no significant difference; docs/tasks/vision.md).
DEFAULT_EMA = 0.995


def to_xy(transformed: dict):
    return transformed[PIXELS_KEY], transformed[LABEL_ID_KEY]


def vit_config(
    config: PipelineConfig, hp: keras_tuner.HyperParameters, num_classes: int, decay_steps: int
) -> VisionTransformerConfig:
    """The search space: `hp` picks patch size, depth, width, heads, dropout and learning rate.

    Values fixed under `model:` in the task config are not searched; the defaults are the
    recipe measured on the default data (README, "Vision")."""

    def choose(name, search):
        return training.choose(config.model, name, search)

    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [64, 96], default=96))
    return VisionTransformerConfig(
        image_size=tuple(config.vision.image_size),
        channels=config.vision.channels,
        num_classes=num_classes,
        patch_size=choose("patch_size", lambda: hp.Choice("patch_size", [4, 7], default=4)),
        stem=tuple(config.model.get("stem", DEFAULT_STEM)),
        pooling=config.model.get("pooling", DEFAULT_POOLING),
        model_dim=model_dim,
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 2, 6, default=2)),
        num_heads=choose("num_heads", lambda: hp.Choice("num_heads", [2, 4], default=4)),
        mlp_dim=2 * model_dim,
        dropout=choose("dropout", lambda: hp.Choice("dropout", [0.0, 0.1], default=0.1)),
        learning_rate=choose(
            "learning_rate", lambda: hp.Float("learning_rate", 1e-3, 3e-3, sampling="log", default=2e-3)
        ),
        weight_decay=config.model.get("weight_decay", VisionTransformerConfig.weight_decay),
        label_smoothing=config.model.get("label_smoothing", 0.0),
        decay_steps=decay_steps,
        ema_momentum=config.model.get("ema", DEFAULT_EMA),
    )


def augmentation(config: PipelineConfig) -> Augmentation:
    """How training images are moved at random: `Augmentation`'s defaults, each overridden by the
    `model.` key of its name."""
    return Augmentation(**{key: config.model[key] for key in AUGMENTATION_KEYS if key in config.model})


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `vit_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, to_xy, num_epochs=None)
    train = augment_batches(train, augmentation(config), config.seed)
    num_classes = len(class_names(tf_transform_output))
    steps = config.tuner.epochs * config.tuner.steps_per_epoch
    return training.random_search(
        fn_args,
        config,
        lambda hp: build_vision_transformer(vit_config(config, hp, num_classes, steps)),
        TUNER_OBJECTIVE,
        train,
        evaluation,
    )


def run_fn(fn_args) -> None:
    """Fit the pixel challenger, train the best ViT (the best epoch on eval kept), export both."""
    config = training.task_config(fn_args)
    distribution.strategy()  # several workers in TF_CONFIG: made first, before any other op
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    names = class_names(tf_transform_output)
    train_arrays = training.as_arrays(fn_args, fn_args.train_files, tf_transform_output, to_xy, config.seed, 256)
    eval_arrays = training.as_arrays(fn_args, fn_args.eval_files, tf_transform_output, to_xy, config.seed, 256)
    challenger, penalty, accuracy = baseline.fit_baseline(train_arrays, eval_arrays, len(names), config.seed)
    print(f"vision challenger: logistic regression on pixels, C={penalty} (eval accuracy by C: {accuracy})")
    _, train, evaluation = training.datasets(fn_args, config, to_xy)
    train = augment_batches(train, augmentation(config), config.seed)
    decay_steps = config.trainer.epochs * math.ceil(len(train_arrays[1]) / config.trainer.batch_size)
    with distribution.scope():  # several workers (TF_CONFIG): mirrored variables
        model = build_vision_transformer(
            vit_config(config, training.hyperparameters_from(fn_args), len(names), decay_steps)
        )
    training.fit(model, train, evaluation, config, fn_args.model_run_dir, training.model_uri(fn_args),
                 warm_from=training.warm_source(fn_args))  # fmt: skip

    def predict(transformed: dict) -> dict:
        return class_outputs(model(transformed[PIXELS_KEY], training=False), names)

    export.export_serving_model(
        model,
        tf_transform_output,
        RAW_ONLY_KEYS,
        predict,
        fn_args.serving_model_dir,
        evaluate=lambda t: with_challenger(predict(t), class_outputs(challenger(t[PIXELS_KEY]), names)),
        tracked={"pixel_challenger": challenger},  # its weights travel in the SavedModel
    )
