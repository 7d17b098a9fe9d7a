"""N-gram counts of many texts as one sparse matrix, built a chunk of texts at a time.

Why: the challenger's features (words, bigrams and 2-5 character n-grams) run to hundreds
per text. Held as Python lists of Python strings they cost ~60-100 bytes each, and the
text task's Tuner and Trainer were the first to run out of memory as data grew
(docs/benchmarks.md, "scale"). Here only one chunk's tokens are ever strings; the matrix
keeps a count per (text, n-gram) in a few bytes, and the vocabulary each distinct n-gram once.

Columns are in sorted vocabulary order, scikit-learn's `CountVectorizer` order, so that the
TF-IDF fits on them (tasks/text/baseline.py) are the ones scikit-learn makes on token lists.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from scipy import sparse

CHUNK = 2048  # texts tokenized at once: bounds the Python strings alive at any time


def _count_chunk(analyze, texts, index: dict, grow: bool) -> sparse.csr_matrix:
    """(B,) texts -> (B, len(index)) int32 counts; n-grams not in `index` are added (`grow`) or dropped."""
    ragged = analyze(tf.constant(list(texts)))  # (B, None) bytes
    grams, inverse = np.unique(ragged.flat_values.numpy(), return_inverse=True)  # (U,), (T,)
    if grow:
        for g in grams:
            index.setdefault(g, len(index))
    ids = np.array([index.get(g, -1) for g in grams], np.int64)[inverse]  # (T,), -1 unknown
    rows = np.repeat(np.arange(len(texts)), np.diff(ragged.row_splits.numpy()))  # (T,)
    known = ids >= 0
    counts = sparse.coo_matrix(
        (np.ones(known.sum(), np.int32), (rows[known], ids[known])), shape=(len(texts), len(index))
    )
    return counts.tocsr()  # duplicates summed: one entry per (text, n-gram)


def _count(analyze, texts, index: dict, grow: bool, chunk: int) -> sparse.csr_matrix:
    parts = [_count_chunk(analyze, texts[i : i + chunk], index, grow) for i in range(0, len(texts), chunk)]
    parts = parts or [sparse.csr_matrix((0, len(index)), dtype=np.int32)]
    for p in parts:  # earlier chunks saw a smaller vocabulary: same ids, fewer columns
        p.resize(p.shape[0], len(index))
    return sparse.vstack(parts, format="csr", dtype=np.int32)


@dataclass
class NgramCounts:
    """`train` (N, V) and `evaluation` (M, V) int32 counts over `vocabulary` (V,), sorted;
    the vocabulary is every n-gram of the train texts (before any min_df)."""

    train: sparse.csr_matrix
    evaluation: sparse.csr_matrix
    vocabulary: list[str]

    @classmethod
    def of(
        cls, train_texts, eval_texts, analyze: Callable[[tf.Tensor], tf.RaggedTensor], chunk: int = CHUNK
    ) -> NgramCounts:  # fmt: skip
        """Count the n-grams `analyze` gives ((B,) texts -> (B, None) bytes), `chunk` texts at a time."""
        index: dict[bytes, int] = {}
        train = _count(analyze, np.asarray(train_texts), index, True, chunk)
        evaluation = _count(analyze, np.asarray(eval_texts), index, False, chunk)
        grams = np.array(list(index), dtype=object)
        del index
        order = np.argsort(grams, kind="stable")  # UTF-8 bytes sort as their code points, as str does
        column = np.empty(len(order), np.int32)
        column[order] = np.arange(len(order), dtype=np.int32)  # old id -> sorted id
        vocabulary = [g.decode() for g in grams[order]]
        return cls(_renumber(train, column), _renumber(evaluation, column), vocabulary)

    def select(self, keep: np.ndarray) -> NgramCounts:
        """Only the columns where `keep` (V,) bool is true: a view of fewer n-grams, still sorted."""
        columns = np.flatnonzero(keep)
        return NgramCounts(
            self.train[:, columns], self.evaluation[:, columns], [self.vocabulary[i] for i in columns]
        )


def _renumber(counts: sparse.csr_matrix, column: np.ndarray) -> sparse.csr_matrix:
    counts = sparse.csr_matrix((counts.data, column[counts.indices], counts.indptr), shape=counts.shape)
    counts.sort_indices()
    return counts
