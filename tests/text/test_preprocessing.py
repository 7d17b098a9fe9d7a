"""The text `preprocessing_fn` through tf.Transform on a fixture, and its parity with TextVectorization."""
import os
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from tasks.text import features, preprocessing
from tasks.text.config import TextConfig

TEXTS = [
    "A great, GREAT film!",
    "Dull. Dull and long...",
    "great fun",
    "long and dull: a mess",
    "An unseen word",  # "unseen"/"word" appear once: below the frequency threshold
]
LABELS = ["fresh", "rotten", "fresh", "rotten", "fresh"]
TEXT = TextConfig(max_length=6, vocab_size=100, frequency_threshold=2)
RAW_SPEC = {
    features.TEXT_KEY: tf.io.FixedLenFeature([1], tf.string),
    features.LABEL_KEY: tf.io.FixedLenFeature([1], tf.string),
}


def analyze_and_transform(texts, labels, text_config):
    rows = [{features.TEXT_KEY: [t.encode()], features.LABEL_KEY: [y.encode()]} for t, y in zip(texts, labels, strict=False)]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
    output_dir = tempfile.mkdtemp()
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp"), force_tf_compat_v1=False):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing.transform_text(inputs, text_config)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    return transformed, tft.TFTransformOutput(output_dir)


@pytest.fixture(scope="module")
def result():
    return analyze_and_transform(TEXTS, LABELS, TEXT)


@pytest.mark.slow
def test_token_ids_padding_oov_and_labels(result):
    transformed, output = result
    vocabulary = output.vocabulary_by_name(features.TOKEN_VOCABULARY)
    vocabulary = [v.decode() for v in vocabulary]
    # Tokens seen at least twice, most frequent first: "great" and "dull" 3 times, then the rest.
    assert set(vocabulary[:2]) == {"great", "dull"}
    assert set(vocabulary) == {"dull", "great", "long", "and", "a"}
    ids = {token: i + 2 for i, token in enumerate(vocabulary)}
    ids_key = features.transformed_key(features.TEXT_KEY)
    first = transformed[0][ids_key]
    # "a great great film" -> a, great, great, OOV(film), then padding.
    np.testing.assert_array_equal(first, [ids["a"], ids["great"], ids["great"], 1, 0, 0])
    np.testing.assert_array_equal(transformed[4][ids_key], [1, 1, 1, 0, 0, 0])  # all rare: OOV
    assert all(len(row[ids_key]) == TEXT.max_length for row in transformed)
    label_vocabulary = [v.decode() for v in output.vocabulary_by_name(features.LABEL_VOCABULARY)]
    assert label_vocabulary == ["fresh", "rotten"]  # by frequency
    label_ids = [int(row[features.transformed_key(features.LABEL_KEY)]) for row in transformed]
    assert label_ids == [0, 1, 0, 1, 0]


@pytest.mark.slow
@pytest.mark.parametrize("ngrams", [1, 2])
def test_same_ids_as_text_vectorization(ngrams):
    config = TextConfig(max_length=12, vocab_size=100, frequency_threshold=1, ngrams=ngrams)
    # the last text has more tokens than max_length: truncated the way TextVectorization truncates
    texts = TEXTS + ["  Spaces   and\ttabs, (parens) & 'quotes'  ", "UPPER lower MiXeD", " ".join(["great dull"] * 8)]
    transformed, output = analyze_and_transform(texts, ["a"] * len(texts), config)
    vocabulary = [v.decode() for v in output.vocabulary_by_name(features.TOKEN_VOCABULARY)]
    layer = keras.layers.TextVectorization(
        vocabulary=vocabulary, output_sequence_length=config.max_length, ngrams=ngrams if ngrams > 1 else None
    )
    queries = texts + ["never seen before", ""]
    expected = np.asarray(layer(tf.constant(queries)))
    # Apply the fitted transform to new texts, as serving does.
    layer_tft = output.transform_features_layer()
    got = layer_tft({
        features.TEXT_KEY: tf.constant([[q] for q in queries]),
        features.LABEL_KEY: tf.constant([["a"]] * len(queries)),
    })[features.transformed_key(features.TEXT_KEY)]
    np.testing.assert_array_equal(np.asarray(got), expected)
    rows = np.stack([row[features.transformed_key(features.TEXT_KEY)] for row in transformed])  # (texts, max_length)
    np.testing.assert_array_equal(rows, expected[: len(texts)])
    assert rows.shape == (len(texts), config.max_length) and np.count_nonzero(rows[-1]) == config.max_length
