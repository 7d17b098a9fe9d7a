"""TFX module for the text task: `preprocessing_fn`, `tuner_fn` and `run_fn`.

Thin adapters: tokenization is in `components.text.preprocessing`, data plumbing in
`components.training`, the model in `models.text_classifier`, the serving graph in
`components.export`. The pipeline passes `PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import keras
import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult

from components import export, training
from components.text.preprocessing import (  # noqa: F401  (Transform entry point)
    RESERVED_IDS,
    preprocessing_fn,
)
from data import features
from models.text_classifier import TextClassifierConfig, build_text_classifier
from pipeline.config import PipelineConfig

IDS_KEY = features.transformed_key(features.TEXT_KEY)
LABEL_ID_KEY = features.transformed_key(features.LABEL_KEY)
RAW_ONLY_KEYS = (features.LABEL_KEY, features.LENGTH_BUCKET_KEY)  # not sent at serving time


def to_xy(transformed: dict):
    return transformed[IDS_KEY], transformed[LABEL_ID_KEY]


def class_names(tf_transform_output: tft.TFTransformOutput) -> list[str]:
    """Class names in label-id order (the Transform's label vocabulary)."""
    return [v.decode() for v in tf_transform_output.vocabulary_by_name(features.LABEL_VOCABULARY)]


def classifier_config(
    config: PipelineConfig, hp: keras_tuner.HyperParameters, tf_transform_output: tft.TFTransformOutput
) -> TextClassifierConfig:
    """The search space: `hp` picks width, depth, heads, dropout and learning rate.

    Values fixed under `model:` in the task config are not searched.
    """
    def choose(name, search):
        return training.choose(config.model, name, search)

    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [32, 64], default=32))
    return TextClassifierConfig(
        vocabulary_size=tf_transform_output.vocabulary_size_by_name(features.TOKEN_VOCABULARY) + RESERVED_IDS,
        max_length=config.text.max_length,
        num_classes=len(class_names(tf_transform_output)),
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 1, 2, default=1)),
        num_heads=choose("num_heads", lambda: hp.Choice("num_heads", [2, 4], default=2)),
        model_dim=model_dim,
        intermediate_dim=2 * model_dim,
        dropout=choose("dropout", lambda: hp.Choice("dropout", [0.1, 0.3], default=0.1)),
        learning_rate=choose(
            "learning_rate", lambda: hp.Float("learning_rate", 3e-4, 3e-3, sampling="log", default=1e-3)
        ),
    )


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `classifier_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, to_xy, num_epochs=None)
    return training.random_search(
        fn_args,
        config,
        lambda hp: build_text_classifier(classifier_config(config, hp, tf_transform_output)),
        keras_tuner.Objective("val_accuracy", "max"),
        train,
        evaluation,
    )


def serving_outputs(model, names: list[str]):
    """Transformed features -> class probabilities, the most probable class name, all class names."""
    vocabulary = tf.constant(names)

    def predict(transformed: dict) -> dict:
        probabilities = model(transformed[IDS_KEY], training=False)  # (B, C)
        batch = tf.shape(probabilities)[0]
        return {
            features.PROBABILITIES_KEY: probabilities,
            features.PREDICTED_LABEL_KEY: tf.gather(vocabulary, tf.argmax(probabilities, axis=-1)),
            features.ALL_CLASSES_KEY: tf.tile(vocabulary[None], [batch, 1]),  # (B, C)
        }

    return predict


def run_fn(fn_args) -> None:
    """Train the best classifier with early stopping on eval, log to TensorBoard, export."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, to_xy)
    model = build_text_classifier(
        classifier_config(config, training.hyperparameters_from(fn_args), tf_transform_output)
    )
    training.fit(model, train, evaluation, config, fn_args.model_run_dir)
    export.export_serving_model(
        model,
        tf_transform_output,
        RAW_ONLY_KEYS,
        serving_outputs(model, class_names(tf_transform_output)),
        fn_args.serving_model_dir,
    )
