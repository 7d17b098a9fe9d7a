"""TFX module for the time-series task: `tuner_fn` and `run_fn` (and `preprocessing_fn`).

Thin adapters: data plumbing is in `components.training`, the model in
`models.forecaster`, the serving graph in `components.export`. The pipeline passes
`PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import keras
import keras_tuner
import tensorflow as tf
from tfx.components.tuner.component import TunerFnResult

from components import export, training
from components.timeseries.preprocessing import (
    preprocessing_fn,  # noqa: F401  (Transform entry point)
)
from data import features
from models.forecaster import ForecasterConfig, build_forecaster
from pipeline.config import PipelineConfig


def input_keys(config: PipelineConfig) -> list[str]:
    return [features.transformed_key(features.window_key(c)) for c in config.series.input_columns]


def label_keys(config: PipelineConfig) -> list[str]:
    return [features.transformed_key(features.target_key(c)) for c in config.series.target_columns]


def make_to_xy(config: PipelineConfig):
    """Transformed feature dict -> (window (B, T, F), targets (B, H, N)), both normalized."""
    inputs, labels = input_keys(config), label_keys(config)

    def to_xy(transformed: dict):
        window = tf.stack([transformed[k] for k in inputs], axis=-1)  # (B, T, F)
        targets = tf.stack([transformed[k] for k in labels], axis=-1)  # (B, H, N)
        return window, targets

    return to_xy


def forecaster_config(config: PipelineConfig, hp: keras_tuner.HyperParameters) -> ForecasterConfig:
    """The search space: `hp` picks width, depth, heads, dropout and learning rate.

    Values fixed under `model:` in the task config are not searched; `model.naive_base`
    picks the naive forecast the network corrects (persistence or seasonal).
    """
    series, fixed = config.series, config.model

    def choose(name, search):
        return training.choose(fixed, name, search)

    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [16, 32, 64], default=32))
    return ForecasterConfig(
        lookback=series.lookback,
        num_features=len(series.input_columns),
        horizon=series.horizon,
        target_indices=[series.input_columns.index(c) for c in series.target_columns],
        variant=fixed.get("variant", "encoder"),
        season=series.season if fixed.get("naive_base", "persistence") == "seasonal" else None,
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 1, 3, default=2)),
        num_heads=choose("num_heads", lambda: hp.Choice("num_heads", [2, 4], default=4)),
        model_dim=model_dim,
        intermediate_dim=2 * model_dim,
        dropout=choose("dropout", lambda: hp.Choice("dropout", [0.0, 0.1, 0.2], default=0.1)),
        learning_rate=choose(
            "learning_rate", lambda: hp.Float("learning_rate", 3e-4, 3e-3, sampling="log", default=1e-3)
        ),
    )


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `forecaster_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    _, train, evaluation = training.datasets(fn_args, config, make_to_xy(config), num_epochs=None)
    return training.random_search(
        fn_args,
        config,
        lambda hp: build_forecaster(forecaster_config(config, hp)),
        keras_tuner.Objective("val_loss", "min"),
        train,
        evaluation,
    )


def serving_outputs(model, config: PipelineConfig):
    """Transformed features -> {forecast_<target>: (B, H)} in the user's units."""
    inputs = input_keys(config)

    def predict(transformed: dict) -> dict:
        window = tf.stack([transformed[k] for k in inputs], axis=-1)  # (B, T, F)
        normalized = model(window, training=False)  # (B, H, N)
        return {
            features.forecast_output_key(c): normalized[:, :, i] * transformed[features.std_key(c)]
            + transformed[features.mean_key(c)]
            for i, c in enumerate(config.series.target_columns)
        }

    return predict


def run_fn(fn_args) -> None:
    """Train the best forecaster with early stopping on eval, log to TensorBoard, export."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, make_to_xy(config))
    model = build_forecaster(forecaster_config(config, training.hyperparameters_from(fn_args)))
    training.fit(model, train, evaluation, config, fn_args.model_run_dir)
    export.export_serving_model(
        model,
        tf_transform_output,
        [features.target_key(c) for c in config.series.target_columns],
        serving_outputs(model, config),
        fn_args.serving_model_dir,
    )
