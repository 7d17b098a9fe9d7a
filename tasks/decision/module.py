"""TFX module for the decision task: `preprocessing_fn`, `tuner_fn` and `run_fn`.

Thin adapters: returns-to-go and standardized states are made in
`tasks.decision.preprocessing`, context windows in `tasks.decision.windows`, the
model in `models.decision_transformer`, the cloning challengers (plain and filtered) in
`tasks.decision.cloning`, the SavedModel in `tasks.decision.serving`. The Tuner
searches the context length K too, so each trial cuts its own windows (`DecisionHyperModel.fit`).
The pipeline passes `PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import math

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult

from components import distribution, training
from data.config import PipelineConfig
from models.decision_transformer import DecisionTransformerConfig, build_decision_transformer
from tasks.decision import cloning, serving
from tasks.decision.preprocessing import (
    preprocessing_fn,  # noqa: F401  (Transform entry point)
)
from tasks.decision.rollout import action_space_info
from tasks.decision.windows import Episodes, context_windows, read_episodes

TUNER_OBJECTIVE = keras_tuner.Objective("val_loss", "min")
# Every `model.` key this task reads (tasks/model_settings.py rejects others before a run)
MODEL_KEYS = ("context_length", "model_dim", "num_layers", "num_heads", "dropout", "learning_rate", "weight_decay",
              "steps_per_execution")  # fmt: skip


def max_timestep(config: PipelineConfig, space: dict) -> int:
    return int(config.decision.max_steps or space["max_episode_steps"])


def model_config(config: PipelineConfig, space: dict, hp: keras_tuner.HyperParameters, decay_steps: int) -> DecisionTransformerConfig:
    """The search space: `hp` picks the context length, depth, width and learning rate.

    Values fixed under `model:` in the task config are not searched; the defaults are the
    recipe measured on the default data (README, "Decision")."""

    def choose(name, search):
        return training.choose(config.model, name, search)

    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [64, 128], default=64))
    return DecisionTransformerConfig(
        state_dim=space["state_dim"],
        action_dim=space["action_dim"],
        discrete=space["discrete"],
        action_low=space["action_low"],
        action_high=space["action_high"],
        context_length=choose("context_length", lambda: hp.Choice("context_length", [10, 20], default=10)),
        max_timestep=max_timestep(config, space),
        model_dim=model_dim,
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 1, 3, default=2)),
        num_heads=config.model.get("num_heads", DecisionTransformerConfig.num_heads),
        mlp_dim=2 * model_dim,
        dropout=config.model.get("dropout", DecisionTransformerConfig.dropout),
        learning_rate=choose(
            "learning_rate", lambda: hp.Float("learning_rate", 3e-4, 3e-3, sampling="log", default=1e-3)
        ),
        weight_decay=config.model.get("weight_decay", DecisionTransformerConfig.weight_decay),
        warmup_steps=min(DecisionTransformerConfig.warmup_steps, max(1, decay_steps // 10)),
        steps_per_execution=config.model.get("steps_per_execution", DecisionTransformerConfig.steps_per_execution),
        decay_steps=decay_steps,
    )


def window_dataset(episodes: Episodes, model: DecisionTransformerConfig, batch_size: int, seed: int | None) -> tf.data.Dataset:
    """(inputs, target actions, mask as sample weights) batches; shuffled when `seed` is given."""
    inputs, targets, mask = context_windows(episodes, model.context_length, model.discrete, model.action_dim)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets, mask))
    if seed is not None:
        dataset = dataset.shuffle(len(mask), seed=seed, reshuffle_each_iteration=True)
    return training.without_autotune(dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE))


class DecisionHyperModel(keras_tuner.HyperModel):
    """Builds a trial's model and cuts windows of the trial's own context length to fit it on."""

    def __init__(self, config: PipelineConfig, space: dict, train: Episodes, evaluation: Episodes, decay_steps: int):
        super().__init__()
        self.config, self.space, self.train, self.evaluation = config, space, train, evaluation
        self.decay_steps = decay_steps

    def build(self, hp):
        return build_decision_transformer(model_config(self.config, self.space, hp, self.decay_steps))

    def fit(self, hp, model, *args, **kwargs):
        chosen = model_config(self.config, self.space, hp, self.decay_steps)
        kwargs.pop("x", None)
        kwargs.pop("validation_data", None)
        batch = self.config.trainer.batch_size
        train = window_dataset(self.train, chosen, batch, self.config.seed).repeat()
        evaluation = window_dataset(self.evaluation, chosen, batch, None)
        training.build_training_state(model, train.element_spec)  # one trace of the train step
        return model.fit(train, validation_data=evaluation, **kwargs)


def read_splits(fn_args, config: PipelineConfig) -> tuple[dict, Episodes, Episodes, tft.TFTransformOutput]:
    space = action_space_info(config.decision.env_id)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    values = 1 if space["discrete"] else space["action_dim"]
    train, evaluation = (
        read_episodes(files, tf_transform_output, space["state_dim"], values)
        for files in (fn_args.train_files, fn_args.eval_files)
    )
    return space, train, evaluation, tf_transform_output


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `model_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    space, train, evaluation, _ = read_splits(fn_args, config)
    steps = config.tuner.epochs * config.tuner.steps_per_epoch
    hypermodel = DecisionHyperModel(config, space, train, evaluation, steps)
    return training.random_search(fn_args, config, hypermodel, TUNER_OBJECTIVE, None, None)


def run_fn(fn_args) -> None:
    """Train the best Decision Transformer (the best epoch on eval kept) and the cloning
    challengers on the same episodes; export them in one SavedModel, with the epochs kept."""
    config = training.task_config(fn_args)
    distribution.strategy()  # several workers in TF_CONFIG: made first, before any other op
    keras.utils.set_random_seed(config.seed)
    space, train, evaluation, tf_transform_output = read_splits(fn_args, config)
    batch = config.trainer.batch_size
    decay_steps = config.trainer.epochs * math.ceil(train.steps / batch)
    chosen = model_config(config, space, training.hyperparameters_from(fn_args), decay_steps)
    print(f"decision: {len(train)} train episodes ({train.steps} steps), {len(evaluation)} eval; model {chosen}")
    with distribution.scope():  # several workers (TF_CONFIG): mirrored variables
        model = build_decision_transformer(chosen)
    eval_windows = window_dataset(evaluation, chosen, batch, None)
    history = training.fit(model, window_dataset(train, chosen, batch, config.seed), eval_windows, config,
                           fn_args.model_run_dir, training.model_uri(fn_args), warm_from=training.warm_source(fn_args))
    kept = history.kept_epoch
    # The challengers are small and fitted on every worker alike (same seed, same episodes),
    # outside the strategy: only the chief's export is kept.
    clones = cloning.fit_clones(train, evaluation, space, config.seed)
    print("decision: kept epoch", kept, "of the Decision Transformer; cloning:", {k: c.info() for k, c in clones.items()})
    info = {
        "env_id": config.decision.env_id,
        **{k: space[k] for k in ("discrete", "state_dim", "action_dim", "action_low", "action_high")},
        "context_length": chosen.context_length,
        "max_timestep": chosen.max_timestep,
        "return_scale": config.decision.return_scale,
        "data_best_return": float(np.max(train.episode_returns)),
        "max_return": config.decision.max_return,
        "kept_epoch": kept,  # KeepBest's epoch of the Decision Transformer (0: its untrained start)
        "cloning": {name: clone.info() for name, clone in clones.items()},  # each signature's fraction and epoch
    }
    models = {name: clone.model for name, clone in clones.items()}
    serving.export_decision_model(model, models, tf_transform_output, info, fn_args.serving_model_dir)
