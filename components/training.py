"""Shared Tuner/Trainer plumbing: transformed datasets, the KerasTuner search, the fit.

Task module files call these; nothing here knows about a particular task.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult
from tfx_bsl.public import tfxio

from components import distributed_fit, distribution, train_profile, warm_start
from data.config import PipelineConfig
from data.notices import notices, progress

TRAINING_RECORD = "keep_best.json"  # in the Model artifact: the epoch KeepBest kept


def task_config(fn_args) -> PipelineConfig:
    """The pipeline passes `PipelineConfig.to_dict()` as `custom_config`."""
    return PipelineConfig.from_dict(fn_args.custom_config)


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
    return without_autotune(dataset.map(to_xy, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` with tf.data's autotuning off, for the datasets `fit` reads epoch after epoch.

    Keras makes a new train and a new eval iterator every epoch and deletes the old ones. With
    autotuning on, deleting an iterator waits for its autotuner's thread (`Model::OptimizeLoop`,
    seen in gdb stacks of the main thread in `RootDataset::Iterator::~Iterator`), and that wait
    left both cores idle for 5 to 10 s in about one epoch of three: vision's epochs took 7-10 s
    or 20 s (108-160 against 320 ms a step), speech's likewise. Off, `AUTOTUNE` parallelism is
    the core count and prefetching sizes its own buffer; the batches and their order are the same
    (`map` keeps its order)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def as_arrays(fn_args, files: list[str], tf_transform_output, to_xy: Callable[[dict], tuple], seed: int,
              batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Every (x, y) that `to_xy` makes of the transformed examples in `files`, as numpy arrays
    (for a challenger fitted with scikit-learn)."""
    dataset = transformed_dataset(fn_args, files, tf_transform_output, to_xy, batch_size, False, seed)
    xs, ys = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def datasets(fn_args, config: PipelineConfig, to_xy: Callable[[dict], tuple], num_epochs: int | None = 1):
    """(transform output, shuffled train batches, eval batches); `num_epochs=None` repeats train."""
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    batch_size = config.trainer.batch_size
    train = transformed_dataset(
        fn_args, fn_args.train_files, tf_transform_output, to_xy, batch_size, True, config.seed, num_epochs
    )
    evaluation = transformed_dataset(
        fn_args, fn_args.eval_files, tf_transform_output, to_xy, batch_size, False, config.seed
    )
    return tf_transform_output, train, evaluation.cache()


def hyperparameters_from(fn_args) -> keras_tuner.HyperParameters:
    """The Tuner's best hyperparameters, or an empty set (defaults) when there was no Tuner."""
    if fn_args.hyperparameters:
        return keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)
    return keras_tuner.HyperParameters()


def choose(fixed: dict[str, Any], name: str, search: Callable[[], Any]) -> Any:
    """A value fixed under `model:` in the task config, else the search space's pick."""
    return fixed[name] if name in fixed else search()


class Progress(keras.callbacks.Callback):
    """One line per epoch on the run's terminal (`Trainer: epoch 3/10, loss .., eval loss .., ~40 s
    left`): a long Trainer no longer sits silent for minutes; Keras's own lines go to the log."""

    def __init__(self, what: str, epochs: int):
        super().__init__()
        self.what, self.epochs = what, epochs

    def on_train_begin(self, logs=None):
        self.started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        done = epoch + 1
        left = (time.time() - self.started) / done * max(0, self.epochs - done)
        losses = ", ".join(f"{name} {logs[key]:.4g}" for name, key in (("loss", "loss"), ("eval loss", "val_loss")) if key in logs)
        progress().info(f"{self.what}: epoch {done}/{self.epochs}, {losses}, ~{left:.0f} s left at most")


def trains_trials(config: PipelineConfig) -> bool:
    """Whether the Tuner trains anything. With one trial (`tuner.max_trials: 1`) the search
    space's defaults are the answer untrained (`ProgressTuner`), so a `tuner_fn` need not
    read data or fit a challenger for it (the text task's is two fits and five folds, growing
    with the data; docs/benchmarks.md, "scale")."""
    return config.tuner.max_trials > 1


def weight_average_swap(model: keras.Model) -> list[keras.callbacks.Callback]:
    """For an optimizer that keeps a moving average of the weights (`use_ema`): the callback that
    puts the average in the model for each evaluation and at each epoch's end, so that eval scores,
    KeepBest and the exported model are the average's (first in the list: the callbacks after it see
    the average). Without it Keras validates the raw weights, KeepBest keeps raw weights, and the
    average Keras copies in after the last epoch is overwritten by them. Otherwise none."""
    if not getattr(model.optimizer, "use_ema", False):
        return []
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)]


class StateBuiltHyperModel(keras_tuner.HyperModel):
    """A search space given as a build function, whose trials are fitted as `fit` fits the
    Trainer's model: the training state built before the first trace (`build_training_state`),
    so that each trial traces its train step once, not twice. Data other than a `tf.data`
    dataset is fitted as Keras fits it."""

    def __init__(self, build: Callable[[keras_tuner.HyperParameters], keras.Model]):
        super().__init__()
        self.build_model = build

    def build(self, hp):
        return self.build_model(hp)

    def fit(self, hp, model, *args, **kwargs):
        data = kwargs["x"] if "x" in kwargs else (args[0] if args else None)
        if isinstance(data, tf.data.Dataset):
            build_training_state(model, data.element_spec)
        kwargs["callbacks"] = [*weight_average_swap(model), *kwargs.get("callbacks", [])]
        return model.fit(*args, **kwargs)


class ProgressTuner(keras_tuner.Tuner):
    """KerasTuner's Tuner, which says each trial's score and the best so far on the terminal.

    With one trial (`tuner.max_trials: 1`) there is nothing to compare: the search space's
    defaults are the answer whatever they would score, so nothing is trained (tracing and
    fitting even one step cost 6 s and more a run). The model is still built once, when
    KerasTuner reads the search space, so a config that cannot build fails here; the output
    has the defaults as its best hyperparameters and no trial. A build function for
    `hypermodel` is fitted as `StateBuiltHyperModel` fits it; a `HyperModel` of a task's own
    builds its trials' state in its `fit` (decision's)."""

    def __init__(self, *args, hypermodel=None, **kwargs):
        if hypermodel is not None and not isinstance(hypermodel, keras_tuner.HyperModel):
            hypermodel = StateBuiltHyperModel(hypermodel)
        super().__init__(*args, hypermodel=hypermodel, **kwargs)

    def one_trial(self) -> bool:
        return self.oracle.max_trials == 1

    def search(self, *fit_args, **fit_kwargs):
        if not self.one_trial():
            return super().search(*fit_args, **fit_kwargs)
        progress().info("Tuner: trial 1/1, the search space's defaults, not trained (one trial: nothing to compare)")

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[keras_tuner.HyperParameters]:
        if self.one_trial() and not self.oracle.trials:
            return [self.oracle.defaults()]
        return super().get_best_hyperparameters(num_trials)

    def on_trial_end(self, trial):
        """One line a trial. Only what KerasTuner's `OracleClient` also offers (the oracle of a
        worker in distributed tuning, `tuner.parallel_trials`): trial ids count from 0 in the
        order the (chief) oracle created them, and the trial's score (a worker's own copy has
        none) and the best trials come over its RPC."""
        super().on_trial_end(trial)
        score, best = self.oracle.get_trial(trial.trial_id).score, self.oracle.get_best_trials(1)
        shown = f"{score:.4g}" if score is not None else "no score"
        found = f", best {best[0].score:.4g}" if best and best[0].score is not None else ""
        progress().info(f"Tuner: trial {int(trial.trial_id) + 1}/{self.oracle.max_trials}, {self.oracle.objective.name} {shown}{found}")


class DefaultsFirstOracle(keras_tuner.oracles.RandomSearchOracle):
    """Random search whose first trial is the search space's defaults: the recipe measured on
    the default data (README) is always among the candidates, and a random trial replaces it
    only by doing better on eval."""

    def default_values(self) -> dict:
        """{name: default} of every hyperparameter the defaults make active."""
        defaults = keras_tuner.HyperParameters()
        values = {}
        for hp in self.hyperparameters.space:
            defaults.merge([hp])
            if defaults.is_active(hp):
                values[hp.name] = hp.default
        return values

    def defaults(self) -> keras_tuner.HyperParameters:
        """The search space with its defaults as values, as a trial of them would carry it."""
        hps = self.hyperparameters.copy()
        hps.values = self.default_values()
        return hps

    def populate_space(self, trial_id):
        if self.trials:  # every trial after the first: random, never a repeat
            return super().populate_space(trial_id)
        return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING, "values": self.default_values()}


def random_search(
    fn_args,
    config: PipelineConfig,
    build: Callable[[keras_tuner.HyperParameters], keras.Model],
    objective: keras_tuner.Objective,
    train: tf.data.Dataset,
    evaluation: tf.data.Dataset,
) -> TunerFnResult:
    """KerasTuner random search (the defaults first) within `config.tuner`'s budget (trials, epochs,
    steps). With one trial the defaults are the answer whatever they score: nothing is trained."""
    tuner = ProgressTuner(
        oracle=DefaultsFirstOracle(objective=objective, max_trials=config.tuner.max_trials, seed=config.seed),
        hypermodel=build,
        directory=fn_args.working_dir,
        project_name=config.task,
        overwrite=True,
    )
    fit_kwargs = {
        "x": train,
        "validation_data": evaluation,
        "epochs": config.tuner.epochs,
        "steps_per_epoch": config.tuner.steps_per_epoch,
        "verbose": 2,
    }
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)


class KeepBest(keras.callbacks.Callback):
    """Early stopping on eval that counts the starting weights as epoch 0.

    Keras's EarlyStopping restores the best *trained* epoch; a model that starts from a
    fitted solution (the forecaster's linear path starts at ridge, the text model at its
    wide part) can be made worse by every epoch, and must then stay at its start.
    `monitor`: "loss" (lower is better), or a compiled metric where higher is better, such
    as "accuracy", with ties going to the lower loss; `initial`: `evaluate`'s dict (or the
    loss alone) for the starting weights.
    """

    def __init__(self, initial: dict | float, patience: int, monitor: str = "loss"):
        super().__init__()
        self.initial = initial if isinstance(initial, dict) else {"loss": initial}
        if monitor not in self.initial:
            raise ValueError(
                f"`trainer.keep_best_on` is {monitor!r}, but the model reports {sorted(self.initial)} on eval"
            )
        self.monitor = monitor
        self.patience = patience
        self.best_epoch = 0  # 0: the starting weights

    def _rank(self, logs: dict) -> tuple[float, float]:
        """Larger is better: (-loss, -loss), or (metric, -loss)."""
        loss = -logs["loss"]
        return (loss if self.monitor == "loss" else logs[self.monitor]), loss

    def on_train_begin(self, logs=None):
        self.best, self.wait = self._rank(self.initial), 0
        self.best_weights = self.model.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        logs = {k[len("val_") :]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        rank = self._rank(logs) if "loss" in logs else None
        if rank is not None and rank > self.best:
            self.best, self.wait, self.best_epoch = rank, 0, epoch + 1
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.model.set_weights(self.best_weights)
        kept = f"val_{self.monitor} {self.best[0]:.5f}, " if self.monitor != "loss" else ""
        print(f"KeepBest: kept epoch {self.best_epoch} ({kept}val_loss {-self.best[1]:.5f}; epoch 0 = the start)")


def record_path(model_uri: str) -> str:
    """Where a Trainer's Model artifact records what KeepBest kept (beside Format-Serving, so never pushed)."""
    return os.path.join(model_uri, TRAINING_RECORD)


def training_record(model_uri: str) -> dict:
    """What `fit` recorded for the model at `model_uri` (kept_epoch, 0: its start; warm_started;
    eval_history), or {} if unrecorded."""
    path = record_path(model_uri)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)


def kept_epoch(model_uri: str) -> int | None:
    """The epoch KeepBest kept for the model at `model_uri` (0: its start), or None if unrecorded."""
    return training_record(model_uri).get("kept_epoch")


class EvalHistory(keras.callbacks.Callback):
    """Each epoch's eval loss (and the kept metric) with the seconds since `started`, after the
    start's (epoch 0): how many epochs and seconds a model took to reach a score (`make bench`
    compares warm and cold starts with it)."""

    def __init__(self, initial: dict, monitor: str, started: float):
        super().__init__()
        self.monitor, self.started = monitor, started
        self.epochs = [self._row(0, initial)]

    def _row(self, epoch: int, scores: dict) -> dict:
        row = {"epoch": epoch, "val_loss": float(scores["loss"])}
        if self.monitor != "loss" and self.monitor in scores:
            row[f"val_{self.monitor}"] = float(scores[self.monitor])
        return {**row, "seconds": round(time.time() - self.started, 3)}

    def on_epoch_end(self, epoch, logs=None):
        scores = {k[len("val_") :]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if "loss" in scores:
            self.epochs.append(self._row(epoch + 1, scores))


def warm_source(fn_args) -> tuple[str | None, str]:
    """What `fit` warm-starts from: the latest blessed model (TFX's `base_model` input: its
    Format-Serving folder, or None) and this run's transform graph (its vocabulary)."""
    return fn_args.base_model, fn_args.transform_graph_path


def built(model: keras.Model, train) -> None:
    """Build a model that creates its weights on its first call, with one batch of `train`."""
    if model.built and model.weights:
        return
    batch = next(iter(train))
    model(batch[0] if isinstance(batch, tuple | list) else batch, training=False)


def build_training_state(model: keras.Model, batch) -> None:
    """Create the optimizer's slots and the compiled metrics' and losses' state before `fit`
    traces its first train step; `batch`: the training data's `element_spec` (or arrays).

    Without a distribution strategy Keras 3 creates them inside the first traced train step,
    and a `tf.function` that creates variables is traced a second time: about half of a
    first epoch (measured in process, the default models: forecaster 8.6 -> 4.5 s, ViT
    25.4 -> 14.8 s, Decision Transformer 16.9 -> 8.1 s). This is Keras's own build, which it
    runs itself only under a strategy (`_maybe_symbolic_build`; `distributed_fit.prepare`
    runs it under ours): shapes and dtypes alone, no data read, no step taken, so the
    training is the same (same losses, same seed). Inside a strategy's scope it does nothing:
    the strategy's own build makes that state, as its variables."""
    if tf.distribute.has_strategy():
        return
    model._symbolic_build(data_batch=batch)  # noqa: SLF001


def try_warm_start(model: keras.Model, train, config: PipelineConfig, warm: tuple[str | None, str] | None) -> tuple[bool, str]:
    """With `trainer.warm_start`, the blessed model's weights restored into `model` when they fit;
    (whether it did, the line saying so or why not, which the run's terminal shows)."""
    if not config.trainer.warm_start:
        return False, "trainer.warm_start is false"
    built(model, train)
    base_model, transform_graph_path = warm if warm is not None else (None, None)
    done, why = warm_start.restore(model, base_model, transform_graph_path)
    if done:
        progress().info(f"Trainer: {why}")
    else:
        notices().warning(f"Trainer: trainer.warm_start is true, but it trains from scratch: {why}")
    return done, why


def fit(model: keras.Model, train, evaluation, config: PipelineConfig, log_dir: str, model_uri: str | None = None,
        warm_from: tuple[str | None, str] | None = None):  # fmt: skip
    """Train with early stopping on the eval split (the best of the start and every epoch kept)
    and TensorBoard logs; the kept epoch is recorded in the Model artifact at `model_uri`
    (the gate reports it beside the transformer's gain over its start), with the weights a later
    run can warm-start from. `warm_from`: `warm_source(fn_args)`, (the blessed model's path or None,
    this run's transform graph); with `trainer.warm_start` the start (epoch 0) is its weights.

    When `TF_CONFIG` names several workers (components/distribution.py) `model` must have been
    built under `distribution.scope()`: each worker trains on its share of every global batch
    (`trainer.batch_size`) with Keras's own steps (components/distributed_fit.py, since
    `model.fit` fails there), and only the chief keeps what it writes. The returned history's
    `kept_epoch` is KeepBest's epoch."""
    started = time.time()
    cluster = distribution.cluster()
    strategy = distribution.strategy() if cluster.multi_worker else None
    if strategy is not None:
        outside = [v.path for v in model.weights if not strategy.extended.variable_created_in_scope(v.value)]
        if outside:
            raise ValueError(f"TF_CONFIG names {cluster.workers} workers, but the model's weights ({outside[:3]}...) "
                             "were made outside the strategy: build it under `components.distribution.scope()`")  # fmt: skip
        distributed_fit.prepare(model, strategy, train)
    # before any train or test function is built: each is compiled for this many batches per call
    if config.trainer.steps_per_execution is not None:
        model.steps_per_execution = config.trainer.steps_per_execution
    warm_started, warm_reason = try_warm_start(model, train, config, warm_from)
    epochs = config.trainer.warm_start_epochs if warm_started and config.trainer.warm_start_epochs else config.trainer.epochs
    if strategy is None:  # under a strategy, distributed_fit.prepare built the state above
        build_training_state(model, train.element_spec)
        initial = model.evaluate(evaluation, verbose=0, return_dict=True)
    else:
        initial = distributed_fit.evaluate(model, strategy, evaluation)
    keep = KeepBest(initial, config.trainer.patience, config.trainer.keep_best_on)
    clock = train_profile.EpochClock()
    scores = EvalHistory(keep.initial, keep.monitor, started)
    callbacks = [*weight_average_swap(model), keep, scores, Progress("Trainer", epochs), clock]
    if cluster.is_chief:  # one writer of the run's logs
        callbacks.append(keras.callbacks.TensorBoard(log_dir=log_dir))
    if strategy is None:
        history = model.fit(train, validation_data=evaluation, epochs=epochs, verbose=2, callbacks=callbacks)
    else:
        history = distributed_fit.fit(model, strategy, train, evaluation, epochs, callbacks)
    if config.trainer.profile and model_uri is not None and strategy is None:  # after training: the model is unchanged by it
        try:
            figures = train_profile.profile(model, train, clock)
        except Exception as error:  # a measurement never fails the Trainer
            figures = {"error": f"{type(error).__name__}: {error}"}
            print(f"trainer profile failed: {figures['error']}")
        train_profile.write(model_uri, figures)
    history.kept_epoch = keep.best_epoch  # the kept weights' epoch (0: the start), on every worker
    if model_uri is not None:
        with distribution.written(model_uri) as target:  # the chief's is the Model artifact's
            tf.io.gfile.makedirs(target)
            warm_start.save(model, target, warm_from[1] if warm_from is not None else None)
            record = {"kept_epoch": keep.best_epoch, "epochs_run": len(history.epoch), "monitor": keep.monitor,
                      "warm_started": warm_started, "warm_start_reason": warm_reason, "eval_history": scores.epochs}  # fmt: skip
            with tf.io.gfile.GFile(record_path(target), "w") as handle:
                json.dump(record, handle)
    return history


def model_uri(fn_args) -> str:
    """The Trainer's Model artifact folder (the serving model is its Format-Serving)."""
    return os.path.dirname(fn_args.serving_model_dir.rstrip("/"))
