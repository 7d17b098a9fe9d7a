"""The split names every task uses, and a data set's own split column, checked."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

SPLITS = ("train", "eval", "test")
# The eval split a writer writes is cut in two by the ExampleGen (components/examples_io.carve_gate):
# `eval` keeps the part that selects (the Tuner, KeepBest, the challengers' penalties, the variant),
# `eval_gate` the part the Evaluator's paired gate judges on. Choosing on the examples the gate then tests
# blessed a model truly worse by the margin 11 % (forecasts) and 18 % (classifiers) of the time in
# simulation, against 2-3 % with the cut (bench/gate_error_rates.py, docs/gate.md).
GATE_SPLIT = "eval_gate"
GATE_FRACTION = 0.5  # of the written eval split: the later half in time for series, a seeded half otherwise


class SplitColumnError(ValueError):
    """A split column holds something other than train, eval or test."""


def checked_split_column(values: pd.Series, column: str) -> np.ndarray:
    """The split column's values (trimmed, lower case), each train, eval or test; otherwise
    an error naming the first bad data row (1 = the row after the header)."""
    values = values.astype(str).str.strip().str.lower()
    bad = ~values.isin(SPLITS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SplitColumnError(
            f"split column '{column}': data row {row + 1} holds {values.iloc[row]!r}; every row must be "
            f"one of {list(SPLITS)} ({int(bad.sum())} row(s) are not)"
        )
    return values.to_numpy(dtype=object)


def hashed_unit(key: str | bytes, seed: int) -> float:
    """A number in [0, 1) that depends on `key` and `seed` alone (a seeded hash)."""
    data = key if isinstance(key, bytes) else str(key).encode()
    return int(hashlib.sha256(f"{seed}\0".encode() + data).hexdigest()[:15], 16) / 16**15


def hashed_splits(keys, fractions: list[float], seed: int) -> np.ndarray:
    """A split name per key from a seeded hash of the key alone: a row keeps its split however
    many rows arrive after it. Data that arrive as spans (data/spans.py) are split this way: a
    permutation of all rows would move rows a deployed model was trained on into the new eval
    split, and its comparison with the candidate would flatter it."""
    buckets = np.array([hashed_unit(key, seed) for key in keys])
    return np.array(SPLITS, dtype=object)[np.minimum(np.searchsorted(np.cumsum(fractions), buckets, side="right"), 2)]


def split_groups(groups: np.ndarray, labels: np.ndarray, fractions: list[float], stratify: bool, seed: int,
                 keys=None) -> np.ndarray:  # fmt: skip
    """A split name per row: a seeded permutation of groups cut by `fractions` (train, eval,
    test), per class when `stratify` (a group's class is its first row's); with `keys` (N,) (a
    group's content: its text, its file's digest), a seeded hash of each group's key instead,
    which keeps every row's split as spans arrive (`hashed_splits`; stratified only in expectation).

    Rows of one group (equal texts, equal image bytes) always land in one split, so a model is
    never tested on an example it was trained on. `groups` (N,) ids in [0, G); `labels` (N,).
    """
    rng = np.random.RandomState(seed)
    first = pd.Series(np.arange(len(groups))).groupby(groups).first().to_numpy()  # first row of each group
    if keys is not None:
        return hashed_splits(np.asarray(keys, dtype=object)[first], fractions, seed)[groups]
    group_labels = np.asarray(labels, dtype=object)[first]
    sizes = np.bincount(groups)
    strata = pd.Series(group_labels).groupby(group_labels).indices.values() if stratify else [np.arange(len(first))]
    group_split = np.empty(len(first), dtype=object)
    for members in strata:
        members = rng.permutation(np.asarray(members))
        rows = np.cumsum(sizes[members])  # rows covered once these groups are assigned, in order
        cuts = np.searchsorted(rows, np.cumsum(fractions)[:-1] * rows[-1], side="left") + 1
        for split, part in zip(SPLITS, np.split(members, np.minimum(cuts, len(members))), strict=True):
            group_split[part] = split
    return group_split[groups]


def subsample(frame: pd.DataFrame, max_examples: int | None, seed: int) -> pd.DataFrame:
    """A seeded sample of `max_examples` rows in their order (all rows when None)."""
    if max_examples is None or max_examples >= len(frame):
        return frame
    keep = np.sort(np.random.RandomState(seed).choice(len(frame), max_examples, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def check_classes_in_train(labels: pd.Series, splits: np.ndarray, source: str, remedy: str) -> None:
    """Every class of eval and test has train examples: a model cannot learn a class it never sees.
    The error names each such class, how many examples it has in which split, and `remedy`."""
    known = set(labels[splits == "train"].dropna())
    unseen = labels[(splits != "train") & labels.notna() & ~labels.isin(known)]
    if len(unseen):
        counts = unseen.groupby(splits[unseen.index]).value_counts().to_dict()
        shown = ", ".join(f"'{label}' ({n} in {split})" for (split, label), n in sorted(counts.items()))
        raise ValueError(f"{source}: class(es) with no train example: {shown}. {remedy}")
