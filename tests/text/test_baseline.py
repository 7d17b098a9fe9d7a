"""The bag-of-n-grams challenger: TensorFlow ops that reproduce the fitted scikit-learn model."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tasks.text import baseline

WORDS = ["great", "awful", "plot", "acting", "film", "boring", "moving", "loud", "warm", "dull"]


def _corpus(num_classes: int, n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=n)
    texts = []
    for label in labels:  # each class prefers its own words; some punctuation and case
        words = rng.choice(WORDS, size=rng.integers(2, 9))
        words = np.append(words, WORDS[label * 2 % len(WORDS)]).tolist()
        texts.append((" ".join(words).capitalize() + rng.choice([".", "!", ", really."])).encode())
    return np.array(texts), labels


@pytest.mark.parametrize("num_classes,char_widths", [(2, None), (4, None), (3, (2, 4))])
def test_matches_scikit_learn_probabilities(num_classes, char_widths):
    texts, labels = _corpus(num_classes)
    train = (texts, labels)
    classifier, penalty, accuracy = baseline.fit_baseline(train, train, num_classes, char_widths=char_widths)
    assert penalty in baseline.PENALTIES and set(accuracy) == set(baseline.PENALTIES)
    # Words and character n-grams as two TF-IDF blocks, each L2-normalized, side by side.
    blocks = [(baseline.tokens, TfidfVectorizer(analyzer=lambda t: t, sublinear_tf=True, min_df=baseline.MIN_DF))]
    if char_widths:
        def chars(texts):
            return [[g for g in row if g.startswith(baseline.CHAR_PREFIX)] for row in baseline.tokens(texts, char_widths)]

        blocks += [(chars, TfidfVectorizer(analyzer=lambda t: t, sublinear_tf=True, min_df=baseline.MIN_DF))]
    x = sparse.hstack([v.fit_transform(tokenize(texts)) for tokenize, v in blocks])
    reference = LogisticRegression(C=penalty, max_iter=2000).fit(x, labels)
    unseen, _ = _corpus(num_classes, n=20, seed=1)
    unseen = np.append(unseen, [b"", b"zzz qqq", "Caf\u00e9 GREATER".encode()])  # no known n-gram: the intercept
    expected = reference.predict_proba(sparse.hstack([v.transform(tokenize(unseen)) for tokenize, v in blocks]))
    np.testing.assert_allclose(classifier(tf.constant(unseen)).numpy(), expected, atol=1e-5)


def test_char_ngrams_are_scikit_learns_char_wb():
    texts = [b"A GREAT, moving film!", "Caf\u00e9  NO".encode(), b"", b"x"]
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    grams = baseline.tokens(texts, (2, 5))
    for text, ours in zip(texts, grams, strict=True):
        words = baseline.tokens([text])[0]
        assert ours[: len(words)] == words  # the words and bigrams first, then the prefixed char n-grams
        assert sorted(ours[len(words) :]) == sorted(baseline.CHAR_PREFIX + g for g in analyzer(text.decode()))


def test_tokens_are_the_transformers_with_bigrams():
    assert baseline.tokens([b"A GREAT, moving film!"])[0] == [
        "a", "great", "moving", "film", "a great", "great moving", "moving film",
    ]  # fmt: skip


@pytest.mark.parametrize("char_widths", [None, (2, 3)])
def test_saves_with_its_table(tmp_path, char_widths):
    texts, labels = _corpus(2)
    classifier, _, _ = baseline.fit_baseline((texts, labels), (texts, labels), 2, char_widths=char_widths)
    root = tf.Module()
    root.classifier = classifier
    root.serve = tf.function(lambda t: classifier(t), input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(root, str(tmp_path))
    restored = tf.saved_model.load(str(tmp_path))
    np.testing.assert_allclose(restored.serve(tf.constant(texts[:5])), classifier(tf.constant(texts[:5])), atol=1e-6)


def test_out_of_fold_logits_are_the_exported_ops_of_each_fold():
    from sklearn.model_selection import StratifiedKFold

    texts, labels = _corpus(3, n=150)
    widths = (2, 4)
    logits = baseline.out_of_fold_logits((texts, labels), 3.0, 3, folds=3, seed=1, char_widths=widths)
    for fit_rows, held in StratifiedKFold(3, shuffle=True, random_state=1).split(texts, labels):
        fold, _, _ = baseline.fit_baseline(
            (texts[fit_rows], labels[fit_rows]), (texts[held], labels[held]), 3, penalties=(3.0,), char_widths=widths
        )
        np.testing.assert_allclose(logits[held], fold.logits(tf.constant(texts[held])).numpy(), atol=1e-4)
    counts = baseline.NgramCounts.of(texts, texts[:7], baseline.ngram_analyzer(widths), chunk=16)
    given = baseline.out_of_fold_logits((texts, labels), 3.0, 3, folds=3, seed=1, char_widths=widths, counts=counts)
    # The same folds and fits; TensorFlow's matmuls may sum in another order: float32 rounding, not last bits.
    np.testing.assert_allclose(given, logits, rtol=1e-6, atol=1e-6)


def test_fit_baseline_on_given_counts_equals_fit_on_texts():
    texts, labels = _corpus(2)
    fitted = baseline.fit_baseline((texts, labels), (texts[:40], labels[:40]), 2)
    counts = baseline.NgramCounts.of(texts, texts[:40], baseline.ngram_analyzer((2, 5)), chunk=16)
    given = baseline.fit_baseline((texts, labels), (texts[:40], labels[:40]), 2, counts=baseline.words_only(counts))
    assert given[1:] == fitted[1:]
    np.testing.assert_allclose(given[0](tf.constant(texts[:10])), fitted[0](tf.constant(texts[:10])), atol=1e-6)


def test_out_of_fold_prior_gives_train_texts_unseen_logits():
    texts, labels = _corpus(2, n=200)
    texts = np.array([t + f" #{i}".encode() for i, t in enumerate(texts)])  # unique train texts
    classifier, penalty, _ = baseline.fit_baseline((texts, labels), (texts, labels), 2)
    logits = baseline.out_of_fold_logits((texts, labels), penalty, 2, folds=5)
    prior = baseline.OutOfFoldPrior(texts, logits, classifier)
    unseen = tf.constant([b"great moving film", b"awful loud plot"])
    np.testing.assert_allclose(prior.logits(tf.constant(texts[:10])), logits[:10], atol=1e-6)
    np.testing.assert_allclose(prior.logits(unseen), classifier.logits(unseen), atol=1e-6)
    full = classifier.logits(tf.constant(texts)).numpy()
    margin = lambda z: np.abs(z[:, 1] - z[:, 0]).mean()  # noqa: E731
    assert margin(logits) < margin(full)  # out of fold, the challenger is less sure of train texts


def _block_normalized(x, vocabulary):
    """Each row's words and character n-grams L2-normalized apart, in dense numpy (the reference)."""
    x, chars = x.toarray(), np.array([t.startswith(baseline.CHAR_PREFIX) for t in vocabulary])
    for block in (chars, ~chars):
        x[:, block] /= np.maximum(np.linalg.norm(x[:, block], axis=1, keepdims=True), 1e-12)
    return x


def test_streamed_counts_and_tfidf_are_scikit_learns_on_token_lists():
    from sklearn.feature_extraction.text import CountVectorizer

    texts, _ = _corpus(3, n=120)
    train, evaluation = np.append(texts[:100], b""), np.append(texts[100:], [b"zzz qqq", "Caf\u00e9 awful".encode()])
    widths = (2, 4)
    counts = baseline.NgramCounts.of(train, evaluation, baseline.ngram_analyzer(widths), chunk=7)  # 15 chunks
    for view, char_widths in ((counts, widths), (baseline.words_only(counts), None)):
        reference = CountVectorizer(analyzer=lambda t: t).fit(baseline.tokens(train, char_widths))
        assert view.vocabulary == reference.get_feature_names_out().tolist()  # the same columns, in the same order
        for ours, split in ((view.train, train), (view.evaluation, evaluation)):
            assert ours.dtype == np.int32 and (ours != reference.transform(baseline.tokens(split, char_widths))).nnz == 0
    # A vectorizer fitted on some rows of the counts is a fresh scikit-learn one fitted on those texts.
    rows, held = np.arange(0, 101, 2), np.arange(1, 101, 2)
    ours = baseline._Vectorizer(counts.vocabulary)
    x_rows, x_held = ours.fit_transform(counts.train[rows]), ours.transform(counts.train[held])
    reference = TfidfVectorizer(analyzer=lambda t: t, sublinear_tf=True, min_df=baseline.MIN_DF, norm=None)
    expected = reference.fit_transform(baseline.tokens(train[rows], widths))
    assert ours.vocabulary == reference.get_feature_names_out().tolist() and len(ours.vocabulary) < len(counts.vocabulary)
    np.testing.assert_allclose(ours.idf, reference.idf_, rtol=1e-12)
    np.testing.assert_allclose(x_rows.toarray(), _block_normalized(expected, ours.vocabulary), atol=1e-12)
    expected = reference.transform(baseline.tokens(train[held], widths))
    np.testing.assert_allclose(x_held.toarray(), _block_normalized(expected, ours.vocabulary), atol=1e-12)
