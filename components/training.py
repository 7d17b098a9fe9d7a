"""Shared Tuner/Trainer plumbing: transformed datasets and KerasTuner setup.

Task module files call these; nothing here knows about a particular task.
"""
from __future__ import annotations

from collections.abc import Callable

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio


def transformed_dataset(
    fn_args,
    files: list[str],
    tf_transform_output: tft.TFTransformOutput,
    to_xy: Callable[[dict], tuple],
    batch_size: int,
    shuffle: bool,
    seed: int,
    num_epochs: int | None = 1,
) -> tf.data.Dataset:
    """Batches of transformed examples mapped to (inputs, labels) by `to_xy`."""
    dataset = fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, shuffle=shuffle, shuffle_seed=seed, num_epochs=num_epochs
        ),
        tf_transform_output.transformed_metadata.schema,
    )
    return dataset.map(to_xy, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def hyperparameters_from(fn_args) -> keras_tuner.HyperParameters:
    """The Tuner's best hyperparameters, or an empty set (defaults) when there was no Tuner."""
    if fn_args.hyperparameters:
        return keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)
    return keras_tuner.HyperParameters()
