"""TFX module for the time-series task: `tuner_fn` and `run_fn` (and `preprocessing_fn`).

Thin adapters: data plumbing is in `components.training`, the model in
`models.forecaster`, the serving graph in `components.export`. The pipeline passes
`PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
from tfx.components.tuner.component import TunerFnResult

from components import distribution, export, training
from data.config import PipelineConfig
from models import linear
from models.forecaster import ForecasterConfig, build_forecaster
from tasks.timeseries import challengers, features
from tasks.timeseries.preprocessing import (
    preprocessing_fn,  # noqa: F401  (Transform entry point)
)

LEARNING_RATES = {  # (min, max) of the log-uniform search per variant
    "patch": (1e-5, 1e-3),
    "encoder": (3e-4, 3e-3),
    "encoder_decoder": (3e-4, 3e-3),
}


TUNER_OBJECTIVE = keras_tuner.Objective("val_loss", "min")  # what the Tuner optimizes (the report names it)
# Every `model.` key this task reads (tasks/model_settings.py rejects others before a run)
MODEL_KEYS = ("variant", "loss", "schedule", "naive_base", "linear_skip", "model_dim", "patch_length", "patch_stride",
              "num_layers", "num_heads", "intermediate_dim", "dropout", "head_dropout", "learning_rate")  # fmt: skip


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


def forecaster_config(
    config: PipelineConfig, hp: keras_tuner.HyperParameters, train_steps: int | None = None
) -> ForecasterConfig:
    """The search space: `hp` picks width, depth, heads, dropout and learning rate.

    Values fixed under `model:` in the task config are not searched; `model.naive_base`
    picks the naive forecast the network corrects (persistence or seasonal).
    `model.schedule: cosine` warms the learning rate up and decays it over `train_steps`.
    """
    series, fixed = config.series, config.model

    def choose(name, search):
        return training.choose(fixed, name, search)

    variant = fixed.get("variant", "patch")
    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [16, 32, 64], default=32))
    patch = {}
    if variant == "patch":  # patch length and stride: the patch variant's own knobs
        length = choose("patch_length", lambda: hp.Choice("patch_length", [8, 16], default=16))
        patch = dict(
            patch_length=length,
            patch_stride=choose("patch_stride", lambda: length // 2),
            head_dropout=fixed.get("head_dropout", 0.0),
            linear_skip=fixed.get("linear_skip", True),
        )
    return ForecasterConfig(
        lookback=series.lookback,
        num_features=len(series.input_columns),
        horizon=series.horizon,
        target_indices=[series.input_columns.index(c) for c in series.target_columns],
        variant=variant,
        season=series.season if fixed.get("naive_base", "persistence") == "seasonal" else None,
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 1, 3, default=2)),
        num_heads=choose("num_heads", lambda: hp.Choice("num_heads", [2, 4], default=4)),
        model_dim=model_dim,
        intermediate_dim=choose("intermediate_dim", lambda: 2 * model_dim),
        dropout=choose("dropout", lambda: hp.Choice("dropout", [0.0, 0.1, 0.2], default=0.1)),
        # The patch model starts at the ridge solution: small steps keep what transfers.
        learning_rate=choose("learning_rate", lambda: hp.Float("learning_rate", *LEARNING_RATES[variant], sampling="log")),
        loss=fixed.get("loss", "mae"),
        decay_steps=train_steps if fixed.get("schedule", "constant") == "cosine" else None,
        **patch,
    )


def target_batches(fn_args, config: PipelineConfig, files: list[str], tf_transform_output):
    """The windows of `files`, normalized, batch by batch: target columns (B, T, N_t) and futures
    (B, H, N_t); streamed, so the ridge fit holds one batch, not the split."""
    dataset = training.transformed_dataset(
        fn_args, files, tf_transform_output, make_to_xy(config), 1024, False, config.seed
    )
    target_indices = [config.series.input_columns.index(c) for c in config.series.target_columns]
    for window, future in dataset.as_numpy_iterator():
        yield window[..., target_indices], future  # (B, T, N), (B, H, N)


def fit_linear(fn_args, config: PipelineConfig, tf_transform_output) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """((W, b), train windows): ridge (models.linear) fitted on every train window of the
    target columns, its penalty chosen on the eval windows (`evaluation.linear_alphas`).
    It is the gate's linear challenger, as strong as a ridge can be made without the test
    split, and the start of the patch model's linear path; the window count sizes the
    learning-rate schedule."""
    alphas = config.evaluation.get("linear_alphas", linear.DEFAULT_ALPHAS)
    solution, alpha, maes, windows = linear.fit_ridge_streamed(
        target_batches(fn_args, config, fn_args.train_files, tf_transform_output),
        target_batches(fn_args, config, fn_args.eval_files, tf_transform_output),
        alphas,
    )
    print(f"linear challenger: ridge alpha {alpha} (eval MAE, normalized, by alpha: {maes})")
    return solution, windows


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `forecaster_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, make_to_xy(config), num_epochs=None)
    # One trial trains nothing (the defaults are the answer): no ridge fit to start it from.
    linear_init = fit_linear(fn_args, config, tf_transform_output)[0] if training.trains_trials(config) else None
    steps = config.tuner.epochs * config.tuner.steps_per_epoch
    return training.random_search(
        fn_args,
        config,
        lambda hp: build_forecaster(forecaster_config(config, hp, steps), linear_init),
        TUNER_OBJECTIVE,
        train,
        evaluation,
    )


def forecast_outputs(model, config: PipelineConfig, output_key):
    """Transformed features -> {output_key(target): (B, H)}, `model`'s forecasts in the user's units."""
    inputs = input_keys(config)

    def predict(transformed: dict) -> dict:
        window = tf.stack([transformed[k] for k in inputs], axis=-1)  # (B, T, F)
        normalized = model(window, training=False)  # (B, H, N)
        return {
            output_key(c): normalized[:, :, i] * transformed[features.std_key(c)] + transformed[features.mean_key(c)]
            for i, c in enumerate(config.series.target_columns)
        }

    return predict


def serving_outputs(model, config: PipelineConfig):
    """Transformed features -> {forecast_<target>: (B, H)} in the user's units."""
    return forecast_outputs(model, config, features.forecast_output_key)


def evaluation_outputs(model, linear_model, config: PipelineConfig):
    """The serving outputs plus {linear_<target>: (B, H)}, the linear challenger's forecasts."""
    serve = serving_outputs(model, config)
    challenger = forecast_outputs(
        linear_model, config, lambda c: features.challenger_output_key(challengers.LINEAR, c)
    )
    return lambda transformed: {**serve(transformed), **challenger(transformed)}


def run_fn(fn_args) -> None:
    """Fit the linear challenger, train the best forecaster (early stopping on eval), export both."""
    config = training.task_config(fn_args)
    distribution.strategy()  # several workers in TF_CONFIG: made first, before any other op
    keras.utils.set_random_seed(config.seed)
    tf_transform_output, train, evaluation = training.datasets(fn_args, config, make_to_xy(config))
    linear_init, windows = fit_linear(fn_args, config, tf_transform_output)
    steps = config.trainer.epochs * -(-windows // config.trainer.batch_size)
    model_config = forecaster_config(config, training.hyperparameters_from(fn_args), steps)
    with distribution.scope():  # one worker: no-op; several: mirrored variables
        model = build_forecaster(model_config, linear_init)
    training.fit(model, train, evaluation, config, fn_args.model_run_dir, training.model_uri(fn_args),
                 warm_from=training.warm_source(fn_args))  # fmt: skip
    linear_model = linear.build_linear_forecaster(
        model_config.lookback, model_config.num_features, model_config.horizon, model_config.target_indices, *linear_init
    )
    export.export_serving_model(
        model,
        tf_transform_output,
        [features.target_key(c) for c in config.series.target_columns],
        serving_outputs(model, config),
        fn_args.serving_model_dir,
        evaluate=evaluation_outputs(model, linear_model, config),
        tracked={"linear_challenger": linear_model},  # its weights travel in the SavedModel
    )
