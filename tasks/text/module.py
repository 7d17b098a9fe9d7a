"""TFX module for the text task: `preprocessing_fn`, `tuner_fn` and `run_fn`.

Thin adapters: tokenization is in `tasks.text.preprocessing`, data plumbing in
`components.training`, the model in `models.text_classifier`, the serving graph in
`components.export`. The pipeline passes `PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import keras
import keras_tuner
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult

from components import distribution, export, training
from components.classification import class_names, class_outputs, with_challenger
from data.config import PipelineConfig
from models.text_classifier import TextClassifierConfig, build_text_classifier
from tasks.text import baseline, features
from tasks.text.preprocessing import (  # noqa: F401  (Transform entry point)
    RESERVED_IDS,
    preprocessing_fn,
)

IDS_KEY = features.transformed_key(features.TEXT_KEY)
LABEL_ID_KEY = features.transformed_key(features.LABEL_KEY)
RAW_ONLY_KEYS = (features.LABEL_KEY, features.LENGTH_BUCKET_KEY)  # not sent at serving time


TUNER_OBJECTIVE = keras_tuner.Objective("val_accuracy", "max")  # what the Tuner optimizes (the report names it)
# Character n-gram widths the wide part adds to the challenger's words and bigrams
# (`model.prior_char_ngrams`): on Rotten Tomatoes they lift the linear model from 0.756 to
# 0.778 test accuracy over three seeds; on BBC News they add nothing (README, "The text task").
DEFAULT_PRIOR_CHAR_NGRAMS = (2, 5)
# Every `model.` key this task reads (tasks/model_settings.py rejects others before a run)
MODEL_KEYS = ("over_baseline", "prior_char_ngrams", "model_dim", "num_layers", "num_heads", "dropout", "learning_rate")


def model_inputs(transformed: dict, challenger=None):
    """Token ids (B, T); with a challenger, (ids, its logits (B, C))."""
    if challenger is None:
        return transformed[IDS_KEY]
    return transformed[IDS_KEY], challenger.logits(transformed[features.TEXT_PASSTHROUGH_KEY])


def make_to_xy(challenger=None):
    """Transformed features -> (model inputs, label id)."""
    return lambda transformed: (model_inputs(transformed, challenger), transformed[LABEL_ID_KEY])


def over_baseline(config: PipelineConfig) -> bool:
    """`model.over_baseline` (default true): the transformer learns the residual over the
    logits of a bag-of-n-grams linear model (the wide part) instead of classifying alone."""
    return bool(config.model.get("over_baseline", True))


def prior_char_ngrams(config: PipelineConfig) -> tuple[int, int] | None:
    """`model.prior_char_ngrams` ([lowest, highest], default [2, 5]): the wide part is the
    challenger's TF-IDF + logistic regression with these character n-grams as well;
    null or [] makes the challenger itself the wide part."""
    widths = config.model.get("prior_char_ngrams", DEFAULT_PRIOR_CHAR_NGRAMS)
    if not widths:
        return None
    if len(widths) != 2 or not 1 <= widths[0] <= widths[1]:
        raise ValueError(f"`model.prior_char_ngrams` {list(widths)} must be [lowest, highest] widths, 1 <= lowest <= highest")
    return int(widths[0]), int(widths[1])


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
        prior=over_baseline(config),
    )


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `classifier_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    train = evaluation = None  # one trial: the defaults, untrained, so no texts read and no fit
    if training.trains_trials(config):
        # The Tuner needs only the prior the transformer trains over; the Trainer also exports both linear models.
        training_prior = fit_challenger(fn_args, config, tf_transform_output)[2] if over_baseline(config) else None
        _, train, evaluation = training.datasets(fn_args, config, make_to_xy(training_prior), num_epochs=None)
    return training.random_search(
        fn_args,
        config,
        lambda hp: build_text_classifier(classifier_config(config, hp, tf_transform_output)),
        TUNER_OBJECTIVE,
        train,
        evaluation,
    )


def serving_outputs(model, names: list[str], prior=None):
    """Transformed features -> class probabilities, the most probable class name, all class names."""
    return lambda transformed: class_outputs(model(model_inputs(transformed, prior), training=False), names)


def evaluation_outputs(model, challenger, names: list[str], prior=None):
    """The serving outputs plus the bag-of-n-grams challenger's, prefixed `baseline_`, and the
    wide part's alone, prefixed `wide_` (when it is not the challenger), so that the Scorer
    shows what the transformer adds to it."""

    def evaluate(transformed: dict) -> dict:
        texts = transformed[features.TEXT_PASSTHROUGH_KEY]
        ours = class_outputs(model(model_inputs(transformed, prior), training=False), names)
        wide = class_outputs(prior(texts), names) if prior is not None and prior is not challenger else None
        return with_challenger(ours, class_outputs(challenger(texts), names), wide)

    return evaluate


def texts_and_labels(fn_args, config: PipelineConfig, files: list[str], tf_transform_output):
    """Every (raw text, label id) of `files`, as numpy arrays."""
    return training.as_arrays(
        fn_args, files, tf_transform_output, lambda t: (t[features.TEXT_PASSTHROUGH_KEY], t[LABEL_ID_KEY]), config.seed
    )


def fit_challenger(fn_args, config: PipelineConfig, tf_transform_output):
    """(challenger, wide part, training prior), each fitted on the train texts with its
    penalty chosen on eval: the challenger, TF-IDF of words and bigrams + logistic
    regression; when the transformer learns over a wide part (`over_baseline`), the same
    with character n-grams (`prior_char_ngrams`), and the prior the transformer trains on
    (the wide part's out-of-fold logits for train texts, its own for the rest). Without a
    wide part, (challenger, None, None)."""
    train = texts_and_labels(fn_args, config, fn_args.train_files, tf_transform_output)
    evaluation = texts_and_labels(fn_args, config, fn_args.eval_files, tf_transform_output)
    num_classes = len(class_names(tf_transform_output))
    widths = prior_char_ngrams(config) if over_baseline(config) else None
    # One tokenization, streamed into sparse counts: the challenger's words and bigrams are
    # the wide part's columns minus its char n-grams.
    counts = baseline.NgramCounts.of(train[0], evaluation[0], baseline.ngram_analyzer(widths))
    words = baseline.words_only(counts) if widths else counts
    classifier, penalty, accuracy = baseline.fit_baseline(train, evaluation, num_classes, counts=words)
    print(f"text challenger: TF-IDF + logistic regression, C={penalty} (eval accuracy by C: {accuracy})")
    if not over_baseline(config):
        return classifier, None, None
    wide = classifier
    if widths:
        wide, penalty, accuracy = baseline.fit_baseline(
            train, evaluation, num_classes, char_widths=widths, counts=counts
        )
        print(f"text wide part: with character {widths[0]}-{widths[1]}-grams, C={penalty} (eval accuracy by C: {accuracy})")
    logits = baseline.out_of_fold_logits(
        train, penalty, num_classes, seed=config.seed, char_widths=widths, counts=counts
    )
    return classifier, wide, baseline.OutOfFoldPrior(train[0], logits, wide)


def run_fn(fn_args) -> None:
    """Fit the bag-of-n-grams challenger, train the best classifier (early stopping on eval), export both."""
    config = training.task_config(fn_args)
    distribution.strategy()  # several workers in TF_CONFIG: made first, before any other op
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    challenger, prior, training_prior = fit_challenger(fn_args, config, tf_transform_output)  # at serving, the wide part's own logits
    _, train, evaluation = training.datasets(fn_args, config, make_to_xy(training_prior))
    with distribution.scope():  # several workers (TF_CONFIG): mirrored variables
        model = build_text_classifier(
            classifier_config(config, training.hyperparameters_from(fn_args), tf_transform_output)
        )
    training.fit(model, train, evaluation, config, fn_args.model_run_dir, training.model_uri(fn_args),
                 warm_from=training.warm_source(fn_args))  # fmt: skip
    names = class_names(tf_transform_output)
    export.export_serving_model(
        model,
        tf_transform_output,
        RAW_ONLY_KEYS,
        serving_outputs(model, names, prior),
        fn_args.serving_model_dir,
        evaluate=evaluation_outputs(model, challenger, names, prior),
        tracked={"text_challenger": challenger, "text_wide": prior},  # their tables and weights travel in the SavedModel
    )
