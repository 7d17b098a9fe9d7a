"""The text task's challenger: a bag-of-n-grams linear classifier (TF-IDF + logistic regression).

Fitted by the Trainer on the train split only (scikit-learn), its penalty chosen on eval,
then carried into the SavedModel as TensorFlow ops (`BagOfNgramsClassifier`), so that the
Evaluator and the Scorer score it on the very examples they score the candidate on.
Tokens come from the same `standardize_and_split` as the transformer's (lowercase, strip
punctuation, split on whitespace), with bigrams: fitting and serving cannot disagree. Fitting
reads them as sparse counts streamed a chunk of texts at a time (`NgramCounts`), not as
Python strings, so that memory grows with the nonzeros, a few bytes each.

The same classifier with character n-grams as well (`char_widths`, scikit-learn's
"char_wb") is the wide part the transformer learns over (tasks/text/module.py): on
short reviews the n-grams of "unwatchable" or "masterpiece" carry what whole words, half
of them rare, do not.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from components.classification import logistic_regression_weights
from tasks.text.ngram_counts import NgramCounts
from tasks.text.preprocessing import char_ngrams, standardize_and_split

NGRAMS = 2  # unigrams and bigrams
MIN_DF = 2  # n-grams in fewer train texts are dropped
PENALTIES = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # inverse L2 strengths (C); the best on eval accuracy is kept
FOLDS = 5  # out-of-fold logits for the model trained on top of the challenger
CHAR_PREFIX = "#"  # marks character n-grams; standardized words never contain it


def analyze(texts: tf.Tensor, char_widths: tuple[int, int] | None = None) -> tf.RaggedTensor:
    """(B,) texts -> (B, None) features: word unigrams and bigrams, then, with `char_widths`
    (lowest, highest), the character n-grams of each word, prefixed with CHAR_PREFIX."""
    words = standardize_and_split(texts, NGRAMS)
    if not char_widths:
        return words
    return tf.concat([words, CHAR_PREFIX + char_ngrams(texts, tuple(char_widths))], axis=1)


def ngram_analyzer(char_widths: tuple[int, int] | None = None):
    """`analyze` with its widths bound: (B,) texts -> (B, None) features, as `NgramCounts.of` takes it."""
    return lambda texts: analyze(texts, char_widths)


def tokens(texts: list[bytes] | np.ndarray, char_widths: tuple[int, int] | None = None) -> list[list[str]]:
    """The features of each text (`analyze`) as strings: for reading a few, not for fitting
    (`NgramCounts` holds many texts' features in a fraction of the memory)."""
    ragged = analyze(tf.constant(list(texts)), char_widths)
    return [[t.decode() for t in row] for row in ragged.to_list()]


def words_only(counts: NgramCounts) -> NgramCounts:
    """The word unigram and bigram columns of counts made with character n-grams: one
    tokenization serves the word and the wide fits alike."""
    return counts.select(is_char_ngram(counts.vocabulary) == 0)


def is_char_ngram(vocabulary: list[str]) -> np.ndarray:
    """(V,) 1 for a character n-gram, 0 for a word or bigram: the block each column is normalized in."""
    return np.array([t.startswith(CHAR_PREFIX) for t in vocabulary], np.int64)


class _Vectorizer:
    """TF-IDF over n-gram counts, as scikit-learn's `TfidfVectorizer(sublinear_tf=True,
    min_df=MIN_DF)` fitted on the rows' token lists: the n-grams in at least MIN_DF rows,
    sorted; smooth idf; 1 + log count. Each block of a row (words and bigrams; character
    n-grams) is L2-normalized on its own, so that a text's hundreds of character n-grams do
    not drown its words. Working on counts (`NgramCounts`), not token lists, keeps memory
    to a few bytes per nonzero; a fit on some rows is a fresh vectorizer's on those texts."""

    def __init__(self, vocabulary: list[str]):
        self.all = vocabulary  # (V,) the counts' columns

    def fit_transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """(N, V) int counts -> (N, K) TF-IDF rows over the K kept n-grams."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])  # (V,) one entry per row and n-gram
        self.kept = np.flatnonzero(df >= MIN_DF)  # (K,)
        self.idf = np.log((1 + counts.shape[0]) / (1 + df[self.kept])) + 1  # (K,) scikit-learn's smooth idf
        self.vocabulary = [self.all[i] for i in self.kept]
        self.blocks = is_char_ngram(self.vocabulary)
        return self.transform(counts)

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """(N, V) int counts -> (N, K), in one pass over the nonzeros; temporaries freed as soon
        as done, so that the peak is the output and a few bytes per nonzero."""
        column = np.full(counts.shape[1], -1, np.int32)
        column[self.kept] = np.arange(len(self.kept), dtype=np.int32)  # (V,) counts' column -> ours, -1 dropped
        indices = column[counts.indices]  # (nnz,)
        kept = indices >= 0
        running = np.zeros(len(kept) + 1, np.int64)
        np.cumsum(kept, out=running[1:])  # (nnz + 1,) kept nonzeros before each
        indptr = running[counts.indptr]  # (N + 1,)
        del running
        indices = indices[kept]
        data = np.log(counts.data[kept], dtype=np.float64)
        del kept
        data += 1
        data *= self.idf[indices]
        return self._normalize(sparse.csr_matrix((data, indices, indptr), shape=(counts.shape[0], len(self.kept))))

    def _normalize(self, x: sparse.csr_matrix) -> sparse.csr_matrix:
        """In place, with two (nnz,) temporaries at a time."""
        segments = np.repeat(2 * np.arange(x.shape[0]), np.diff(x.indptr))  # (nnz,) 2 * row
        segments += self.blocks.astype(np.int8)[x.indices]  # one segment per row and block
        norms = np.sqrt(np.bincount(segments, weights=np.square(x.data), minlength=2 * x.shape[0]))
        x.data /= np.maximum(norms, 1e-12)[segments]
        return x


def _classifier(penalty: float) -> LogisticRegression:
    return LogisticRegression(C=penalty, max_iter=2000)


def fit_baseline(
    train: tuple, evaluation: tuple, num_classes: int, penalties=PENALTIES, char_widths=None,
    counts: NgramCounts | None = None,
):  # fmt: skip
    """(classifier, C, {C: eval accuracy}): TF-IDF (sublinear tf, l2) + logistic regression
    over word unigrams and bigrams, and character n-grams of `char_widths` if given.

    `train`, `evaluation`: (texts (N,) bytes, label ids (N,) int in [0, num_classes)).
    `counts`: the train and eval texts' n-gram counts (`NgramCounts.of` with
    `ngram_analyzer(char_widths)`), if already made: on long articles tokenizing costs
    seconds, so a caller fitting twice tokenizes once.
    """
    if counts is None:
        counts = NgramCounts.of(train[0], evaluation[0], ngram_analyzer(char_widths))
    vectorizer = _Vectorizer(counts.vocabulary)
    x_train = vectorizer.fit_transform(counts.train)  # (N, K)
    x_eval = vectorizer.transform(counts.evaluation)  # (M, K)
    fits, accuracy = {}, {}
    for penalty in penalties:
        fits[penalty] = _classifier(penalty).fit(x_train, train[1])
        accuracy[penalty] = float(fits[penalty].score(x_eval, evaluation[1]))
    best = max(accuracy, key=accuracy.get)
    classifier = BagOfNgramsClassifier.from_sklearn(vectorizer, fits[best], num_classes, char_widths)
    return classifier, best, accuracy


def out_of_fold_logits(
    train: tuple, penalty: float, num_classes: int, folds: int = FOLDS, seed: int = 0, char_widths=None,
    counts: NgramCounts | None = None,
) -> np.ndarray:  # fmt: skip
    """(N, C) logits of each train text from a challenger fitted on the other folds.

    A model that learns on top of the challenger must see the challenger's logits as they
    are on texts it has not seen: on its own train texts they are overconfident.
    `counts`: n-gram counts whose `train` are these texts' (`NgramCounts.of` with
    `ngram_analyzer(char_widths)`), if already made; each fold's vectorizer is fitted on
    its rows alone. The held-out logits are the exported ops' (`BagOfNgramsClassifier.logits`),
    computed on the scikit-learn side: `_Vectorizer` gives the same features.
    """
    from sklearn.model_selection import StratifiedKFold

    texts, labels = np.asarray(train[0]), np.asarray(train[1])
    if counts is None:
        counts = NgramCounts.of(texts, texts[:0], ngram_analyzer(char_widths))
    logits = np.zeros((len(texts), num_classes), np.float32)
    for fit_rows, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        vectorizer = _Vectorizer(counts.vocabulary)
        model = _classifier(penalty).fit(vectorizer.fit_transform(counts.train[fit_rows]), labels[fit_rows])
        weights, bias = logistic_regression_weights(model, num_classes)  # (K, C), (C,)
        logits[held] = vectorizer.transform(counts.train[held]) @ weights + bias
    return logits


class OutOfFoldPrior(tf.Module):
    """Prior logits for training on top of the challenger: a train text gets its out-of-fold
    logits (`out_of_fold_logits`), any other text the challenger's own."""

    def __init__(self, texts: np.ndarray, logits: np.ndarray, challenger: BagOfNgramsClassifier):
        super().__init__(name="out_of_fold_prior")
        keys, first = np.unique(np.asarray(texts, dtype=object).astype(bytes), return_index=True)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(keys), tf.range(len(keys), dtype=tf.int64)), -1
        )
        self.values = tf.constant(np.asarray(logits, np.float32)[first])  # (K, C)
        self.challenger = challenger

    def logits(self, texts: tf.Tensor) -> tf.Tensor:
        rows = self.table.lookup(texts)  # (B,), -1: not a train text
        known = tf.gather(self.values, tf.maximum(rows, 0))
        return tf.where((rows >= 0)[:, None], known, self.challenger.logits(texts))


class BagOfNgramsClassifier(tf.Module):
    """(B,) raw texts -> (B, C) class probabilities, as the fitted TF-IDF + logistic regression."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, weights: np.ndarray, bias: np.ndarray, char_widths=None):
        super().__init__(name="bag_of_ngrams")
        self.char_widths = tuple(char_widths) if char_widths else None  # traced into the graph, not a variable
        self.size = len(vocabulary)
        self.blocks = tf.constant(is_char_ngram(vocabulary))  # (V,) the block each column is normalized in
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(vocabulary), tf.range(self.size, dtype=tf.int64)),
            default_value=-1,
        )
        self.idf = tf.Variable(np.asarray(idf, np.float32), trainable=False, name="idf")  # (V,)
        self.weights = tf.Variable(np.asarray(weights, np.float32), trainable=False, name="weights")  # (V, C)
        self.bias = tf.Variable(np.asarray(bias, np.float32), trainable=False, name="bias")  # (C,)

    @classmethod
    def from_sklearn(cls, vectorizer: _Vectorizer, model: LogisticRegression, num_classes: int, char_widths=None):
        weights = logistic_regression_weights(model, num_classes)
        return cls(vectorizer.vocabulary, vectorizer.idf, *weights, char_widths)

    def features(self, texts: tf.Tensor) -> tf.SparseTensor:
        """(B,) texts -> (B, V) sparse TF-IDF rows: (1 + log count) * idf, each block of a row
        (words; character n-grams) L2-normalized, as `_Vectorizer`."""
        ids = self.table.lookup(analyze(texts, self.char_widths))  # (B, None), -1 unknown
        ids = tf.ragged.boolean_mask(ids, ids >= 0)
        counts = tf.sparse.bincount(ids, axis=-1, minlength=self.size, maxlength=self.size)  # (B, V)
        counts = tf.sparse.reorder(counts)
        values = (1.0 + tf.math.log(tf.cast(counts.values, tf.float32))) * tf.gather(self.idf, counts.indices[:, 1])
        segments = 2 * counts.indices[:, 0] + tf.gather(self.blocks, counts.indices[:, 1])  # (nnz,) row and block
        norms = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(values), segments, 2 * tf.shape(texts, tf.int64)[0]))
        values = values / tf.gather(tf.maximum(norms, 1e-12), segments)
        return tf.SparseTensor(counts.indices, values, counts.dense_shape)

    def logits(self, texts: tf.Tensor) -> tf.Tensor:
        """(B,) texts -> (B, C) logits."""
        return tf.sparse.sparse_dense_matmul(self.features(texts), self.weights) + self.bias

    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(self.logits(texts))
