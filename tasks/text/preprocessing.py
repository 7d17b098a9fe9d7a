"""Tokenization as a tensorflow-transform `preprocessing_fn`, equivalent to TextVectorization.

The same steps as `keras.layers.TextVectorization(standardize="lower_and_strip_punctuation",
split="whitespace", ngrams=n, output_mode="int", output_sequence_length=max_length)`:
lowercase, strip punctuation with the same regex, split on whitespace, optionally add
bigrams, map tokens to ids (0 padding, 1 out-of-vocabulary, 2.. the vocabulary by
decreasing train frequency), pad or truncate to `max_length`. The vocabulary is fitted on
the train split (Transform analyzes train only), so nothing leaks from eval or test.
Labels become ids through a second vocabulary; its file gives the class names at serving.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from components.classification import label_ids
from tasks.text import features
from tasks.text.config import TextConfig

# keras.layers.TextVectorization's punctuation regex for "lower_and_strip_punctuation".
STRIP_PUNCTUATION_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
RESERVED_IDS = 2  # padding and OOV come before the vocabulary


def standardize_and_split(texts: tf.Tensor, ngrams: int) -> tf.RaggedTensor:
    """(B,) strings -> (B, None) tokens, exactly as TextVectorization preprocesses them."""
    texts = tf.strings.regex_replace(tf.strings.lower(texts), STRIP_PUNCTUATION_REGEX, "")
    tokens = tf.strings.split(texts)  # any run of whitespace separates; ends are stripped
    if ngrams > 1:
        tokens = tf.strings.ngrams(tokens, ngram_width=tuple(range(1, ngrams + 1)), separator=" ")
    return tokens


def char_ngrams(texts: tf.Tensor, widths: tuple[int, int]) -> tf.RaggedTensor:
    """(B,) strings -> (B, None) character n-grams of `widths` (lowest, highest) inside each
    lowercased whitespace-separated word padded with a space on each side: scikit-learn's
    `analyzer="char_wb"`. Punctuation stays: "great!" and "great" share most of their grams."""
    words = tf.strings.split(tf.strings.lower(texts, encoding="utf-8"))  # (B, W)
    chars = tf.strings.unicode_split(" " + words + " ", "UTF-8")  # (B, W, L)
    grams = tf.strings.ngrams(chars, ngram_width=tuple(range(widths[0], widths[1] + 1)), separator="")  # (B, W, G)
    return grams.merge_dims(1, 2)


def token_ids(texts: tf.Tensor, text: TextConfig) -> tf.Tensor:
    """(B,) strings -> (B, max_length) int64 ids with a train-fitted vocabulary."""
    tokens = standardize_and_split(texts, text.ngrams).to_sparse()
    ids = tft.compute_and_apply_vocabulary(
        tokens,
        top_k=text.vocab_size,
        frequency_threshold=text.frequency_threshold,
        default_value=-1,
        vocab_filename=features.TOKEN_VOCABULARY,
    )
    ids = tf.sparse.map_values(lambda v: tf.where(v < 0, tf.constant(features.OOV_ID, tf.int64), v + RESERVED_IDS), ids)
    ragged = tf.RaggedTensor.from_sparse(ids)
    return ragged.to_tensor(default_value=features.PADDING_ID, shape=[None, text.max_length])


def transform_text(inputs: dict, text: TextConfig) -> dict:
    texts = tf.squeeze(inputs[features.TEXT_KEY], axis=1)  # (B, 1) -> (B,)
    outputs = {
        features.transformed_key(features.TEXT_KEY): token_ids(texts, text),
        features.TEXT_PASSTHROUGH_KEY: texts,  # the challenger (tasks/text/baseline.py) reads raw text
    }
    outputs[features.transformed_key(features.LABEL_KEY)] = label_ids(inputs)  # (B,)
    return outputs


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """TFX entry point; `custom_config` is `PipelineConfig.to_dict()`."""
    return transform_text(inputs, TextConfig(**custom_config["text"]))
