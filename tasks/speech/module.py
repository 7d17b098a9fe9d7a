"""TFX module for the speech task: `preprocessing_fn`, `tuner_fn` and `run_fn`.

Thin adapters: spectrograms and character ids are made in `tasks.speech.preprocessing`,
data plumbing in `components.training`, the model in `models.speech_transformer`, CTC
decoding in `models.ctc`, the MFCC challenger in `tasks.speech.baseline`, the serving
graph in `components.export`. The pipeline passes `PipelineConfig.to_dict()` as `custom_config`.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.tuner.component import TunerFnResult

from components import distribution, export, training
from data.config import PipelineConfig, check_known_keys
from models.ctc import greedy_decode, ids_to_text, lexicon_decode
from models.speech_transformer import (
    AUGMENTATION_KEY,
    Augmentation,
    SpeechTransformerConfig,
    augment_batches,
    build_speech_transformer,
    crop_batches,
    length_sorted_batches,
)
from tasks.speech import baseline, features, vocabulary
from tasks.speech.preprocessing import preprocessing_fn  # noqa: F401  (Transform entry point)

MODEL_INPUTS = (features.SPECTROGRAM_KEY, features.FRAMES_KEY)
# Raw features a serving client does not send: only the WAV bytes are.
RAW_ONLY_KEYS = (
    features.TRANSCRIPT_KEY, features.TRANSCRIPT_STATUS_KEY, features.FILE_KEY, features.SPEAKER_KEY,
    features.AUDIO_STATUS_KEY, features.DURATION_MS_KEY, features.SAMPLE_RATE_KEY, features.AUDIO_CHANNELS_KEY,
)  # fmt: skip
TUNER_OBJECTIVE = keras_tuner.Objective("val_loss", "min")
SAMPLES_SIGNATURE = "predict_samples"  # float samples and their rate, for JSON clients without WAV files
LENGTH_WINDOW = 8  # training batches sorted by length together (`length_sorted_batches`)
# Every `model.` key this task reads (tasks/model_settings.py rejects others before a run)
MODEL_KEYS = ("model_dim", "num_layers", "num_heads", "mlp_dim", "dropout", "learning_rate", "weight_decay", AUGMENTATION_KEY)


def model_inputs(transformed: dict) -> tuple:
    """(spectrogram (B, F, M), frames (B,)): what the model reads, in its input order."""
    return tuple(transformed[k] for k in MODEL_INPUTS)


def to_xy(transformed: dict):
    return model_inputs(transformed), transformed[features.CHARACTERS_KEY]


def to_clip_features(transformed: dict):
    return baseline.clip_features(transformed), transformed[features.CHARACTERS_KEY]


def transcripts_of(ids: np.ndarray, alphabet: str) -> np.ndarray:
    """(N, L) character ids (1-based, 0-padded) -> (N,) strings."""
    return np.array(["".join(alphabet[i - 1] for i in row if i > 0) for row in ids], dtype=object)


def decoder(config: PipelineConfig, train_transcripts) -> Callable[[tf.Tensor], tf.Tensor]:
    """(B, T, A + 1) logits -> (B,) transcripts, as `speech.vocabulary` declares (tasks/speech/vocabulary.py):
    greedy for an open vocabulary, or the likeliest of the distinct train transcripts for a closed one
    (README, "Speech": on the digits, greedy decoding's errors were near misses such as "eigh" or "twor")."""
    if vocabulary.decoding(config) == vocabulary.LEXICON:
        lexicon = vocabulary.lexicon_of(train_transcripts)
        return lambda logits: lexicon_decode(logits, lexicon, config.speech.alphabet)
    return greedy_decoder(config)


def greedy_decoder(config: PipelineConfig) -> Callable[[tf.Tensor], tf.Tensor]:
    """(B, T, A + 1) logits -> (B,) transcripts: the best symbol per step (any spelling)."""
    return lambda logits: ids_to_text(greedy_decode(logits), config.speech.alphabet)


def model_config(
    config: PipelineConfig, hp: keras_tuner.HyperParameters, decay_steps: int
) -> SpeechTransformerConfig:
    """The search space: `hp` picks depth, width, heads, dropout and learning rate.

    Values fixed under `model:` in the task config are not searched; the defaults are the
    recipe measured on the default data (README, "Speech")."""

    def choose(name, search):
        return training.choose(config.model, name, search)

    model_dim = choose("model_dim", lambda: hp.Choice("model_dim", [96, 128], default=96))
    return SpeechTransformerConfig(
        num_frames=config.speech.num_frames,
        mel_bins=config.speech.mel_bins,
        alphabet_size=len(config.speech.alphabet),
        model_dim=model_dim,
        num_layers=choose("num_layers", lambda: hp.Int("num_layers", 2, 4, default=3)),
        num_heads=choose("num_heads", lambda: hp.Choice("num_heads", [2, 4], default=4)),
        mlp_dim=choose("mlp_dim", lambda: hp.Choice("mlp_dim", [192, 256], default=256)),
        dropout=choose("dropout", lambda: hp.Choice("dropout", [0.1, 0.2], default=0.1)),
        learning_rate=choose(
            "learning_rate", lambda: hp.Float("learning_rate", 1e-3, 4e-3, sampling="log", default=2e-3)
        ),
        weight_decay=config.model.get("weight_decay", SpeechTransformerConfig.weight_decay),
        decay_steps=decay_steps,
    )


def augmentation(config: PipelineConfig) -> Augmentation:
    """The Trainer's reading of `model.augmentation`: a mapping of `Augmentation` fields to change."""
    settings = config.model.get(AUGMENTATION_KEY)
    settings = {} if settings is None else settings  # `augmentation:` left empty in YAML
    if not isinstance(settings, dict):
        raise ValueError(f"`model.{AUGMENTATION_KEY}` must map Augmentation fields to values, e.g. {{noise: 0}}; got {settings!r}")
    check_known_keys(f"model.{AUGMENTATION_KEY}", settings, [field.name for field in dataclasses.fields(Augmentation)])
    return Augmentation(**settings)


def tuner_fn(fn_args) -> TunerFnResult:
    """KerasTuner random search over `model_config`'s space, within `config.tuner`'s budget."""
    config = training.task_config(fn_args)
    keras.utils.set_random_seed(config.seed)
    train, evaluation = datasets(fn_args, config, num_epochs=None)
    steps = config.tuner.epochs * config.tuner.steps_per_epoch
    return training.random_search(
        fn_args, config, lambda hp: build_speech_transformer(model_config(config, hp, steps)), TUNER_OBJECTIVE, train, evaluation
    )


def datasets(fn_args, config: PipelineConfig, num_epochs: int | None = 1):
    """(augmented train batches of clips of similar length, eval batches), each cut to its longest clip."""
    _, train, evaluation = training.datasets(fn_args, config, to_xy, num_epochs=num_epochs)
    train = length_sorted_batches(train, config.trainer.batch_size, LENGTH_WINDOW, config.seed)
    return crop_batches(augment_batches(train, augmentation(config), config.seed)), crop_batches(evaluation)


def samples_to_raw():
    """The `predict_samples` signature's adapter: {samples (B, N) float in [-1, 1], sample_rate (B,)}
    -> the raw features (WAV bytes), so that it runs the very graph WAV clients get."""

    def to_raw(inputs: dict) -> dict:
        def encode(pair):
            samples, rate = pair
            return tf.audio.encode_wav(samples[:, None], rate)

        audio = tf.map_fn(encode, (inputs["samples"], inputs[features.SAMPLE_RATE_KEY]), fn_output_signature=tf.string)
        return {features.AUDIO_KEY: audio[:, None]}

    specs = {
        "samples": tf.TensorSpec([None, None], tf.float32, name="samples"),
        features.SAMPLE_RATE_KEY: tf.TensorSpec([None], tf.int32, name=features.SAMPLE_RATE_KEY),
    }
    return specs, to_raw


def run_fn(fn_args) -> None:
    """Fit the MFCC challenger, train the best speech transformer (the best epoch on eval kept), export both."""
    config = training.task_config(fn_args)
    distribution.strategy()  # several workers in TF_CONFIG: made first, before any other op
    alphabet = config.speech.alphabet
    keras.utils.set_random_seed(config.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    clips = {}
    for split, files in (("train", fn_args.train_files), ("eval", fn_args.eval_files)):
        x, ids = training.as_arrays(fn_args, files, tf_transform_output, to_clip_features, config.seed, 256)
        clips[split] = (x, transcripts_of(ids, alphabet))
    challenger, penalty, accuracy = baseline.fit_baseline(clips["train"], clips["eval"], config.seed)
    print(f"speech challenger: logistic regression on MFCC statistics, C={penalty} (eval accuracy by C: {accuracy})")
    train, evaluation = datasets(fn_args, config)
    decay_steps = config.trainer.epochs * math.ceil(len(clips["train"][1]) / config.trainer.batch_size)
    with distribution.scope():  # several workers (TF_CONFIG): mirrored variables
        model = build_speech_transformer(model_config(config, training.hyperparameters_from(fn_args), decay_steps))
    training.fit(model, train, evaluation, config, fn_args.model_run_dir, training.model_uri(fn_args),
                 warm_from=training.warm_source(fn_args))  # fmt: skip
    decode, greedy = decoder(config, clips["train"][1]), greedy_decoder(config)
    how, lexicon = vocabulary.decoding(config), vocabulary.lexicon_of(clips["train"][1])
    print(f"speech decoding: {how}; {vocabulary.count_outside(clips['eval'][1], lexicon)} of {len(clips['eval'][1])} "
          f"eval transcripts are outside the {len(lexicon)} distinct train transcripts")  # fmt: skip

    def transcribe(transformed: dict) -> dict:
        logits = model(model_inputs(transformed), training=False)  # (B, T, A + 1)
        return {features.TRANSCRIPT_KEY: decode(logits)}  # (B,)

    def evaluate(transformed: dict) -> dict:
        """What serving writes, the same logits read greedily (greedy CER beside lexicon CER), the challenger's."""
        logits = model(model_inputs(transformed), training=False)  # (B, T, A + 1)
        return {
            features.TRANSCRIPT_KEY: decode(logits),  # (B,)
            features.GREEDY_TRANSCRIPT_KEY: greedy(logits),  # (B,)
            features.baseline_output_key(features.TRANSCRIPT_KEY): challenger(transformed),  # (B,)
        }

    export.export_serving_model(
        model,
        tf_transform_output,
        RAW_ONLY_KEYS,
        transcribe,
        fn_args.serving_model_dir,
        evaluate=evaluate,
        tracked={  # the challenger's weights, and what the Scorer reports the decoding by, travel in the SavedModel
            "mfcc_challenger": challenger,
            vocabulary.LEXICON_ATTRIBUTE: tf.Variable(lexicon, dtype=tf.string, trainable=False),
            vocabulary.DECODING_ATTRIBUTE: tf.Variable(how, dtype=tf.string, trainable=False),
        },
        adapters={SAMPLES_SIGNATURE: samples_to_raw()},
    )
