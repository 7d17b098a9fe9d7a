"""Text data: the packaged default, seeded stratified splits, length buckets (fast, no TF)."""
import numpy as np
import pandas as pd
import pytest

from data.splits import SplitColumnError
from pipeline.config import load_config
from tasks.text import features
from tasks.text import source as text_source
from tasks.text.config import TextConfig


def test_default_csv_is_review_snippets_only(tmp_path):
    path = text_source.prepare_default_csv(str(tmp_path))
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["text", "label"]
    assert frame["label"].value_counts().to_dict() == {"fresh": 7403, "rotten": 5405}  # no plot summaries
    assert open(path, "rb").read() == open(text_source.prepare_default_csv(str(tmp_path / "again")), "rb").read()


def test_user_columns_and_missing_text(tmp_path):
    csv = tmp_path / "mine.csv"
    csv.write_text("review,sentiment\nGood one,pos\n   ,neg\n")
    frame = text_source.read_texts(str(csv), TextConfig(text_column="review", label_column="sentiment"))
    assert frame[features.TEXT_KEY].tolist() == ["Good one", None]  # blank -> missing: the gate stops it
    assert frame[features.LABEL_KEY].tolist() == ["pos", "neg"]
    with pytest.raises(ValueError, match="text.text_column"):
        text_source.read_texts(str(csv), TextConfig())


def _frame(labels, texts=None) -> pd.DataFrame:
    texts = texts if texts is not None else [f"text {i}" for i in range(len(labels))]
    return pd.DataFrame({features.TEXT_KEY: texts, features.LABEL_KEY: labels})


def test_splits_are_seeded_and_stratified():
    labels = ["a"] * 700 + ["b"] * 300 + ["c"] * 100
    config = TextConfig(split_fractions=[0.6, 0.2, 0.2], stratify=True)
    first, duplicates = text_source.split_rows(_frame(labels), config, seed=1)
    assert duplicates == 0
    assert (first == text_source.split_rows(_frame(labels), config, seed=1)[0]).all()
    assert (first != text_source.split_rows(_frame(labels), config, seed=2)[0]).any()
    table = pd.crosstab(pd.Series(labels), first)
    assert table.loc["a"].to_dict() == {"eval": 140, "test": 140, "train": 420}
    assert table.loc["c"].to_dict() == {"eval": 20, "test": 20, "train": 60}
    unstratified, _ = text_source.split_rows(_frame(labels), TextConfig(split_fractions=[0.6, 0.2, 0.2], stratify=False), 1)
    assert pd.Series(unstratified).value_counts().to_dict() == {"train": 660, "eval": 220, "test": 220}


def test_duplicate_texts_stay_in_one_split_and_are_counted():
    rng = np.random.default_rng(0)
    base = [f"Review number {i}" for i in range(300)]
    texts = base + [t.upper() + "  " for t in rng.choice(base, 60)] + ["review   number 7"]  # case and spaces differ
    labels = list(rng.choice(["a", "b"], len(texts)))
    splits, duplicates = text_source.split_rows(_frame(labels, texts), TextConfig(), seed=3)
    assert duplicates == 61
    normalized = pd.Series(texts).str.lower().str.split().str.join(" ")
    assert (pd.Series(splits).groupby(normalized).nunique() == 1).all()  # no text in two splits
    assert set(splits) == {"train", "eval", "test"}


def test_split_column_is_honoured(tmp_path):
    csv = tmp_path / "given.csv"
    csv.write_text("text,label,part\none,a,train\ntwo,b,Test\nthree,a, eval \none,a,test\n")
    config = TextConfig(split_column="part")
    frame = text_source.read_texts(str(csv), config)
    splits, duplicates = text_source.split_rows(frame, config, seed=0)
    assert list(splits) == ["train", "test", "eval", "test"]  # as given, even for a duplicate
    assert duplicates == 1


def test_bad_split_value_names_the_row(tmp_path):
    csv = tmp_path / "given.csv"
    csv.write_text("text,label,part\none,a,train\ntwo,b,validation\nthree,a,\n")
    config = TextConfig(split_column="part")
    with pytest.raises(SplitColumnError, match=r"split column 'part': data row 2 holds 'validation'.*2 row"):
        text_source.split_rows(text_source.read_texts(str(csv), config), config, seed=0)


def test_length_buckets():
    config = TextConfig(length_buckets=[2, 4])
    assert [text_source.length_bucket(t, config) for t in ["a b", "a b c", "a b c d e", None]] == [
        "short", "medium", "long", "short",
    ]  # fmt: skip


def test_text_config_is_validated():
    with pytest.raises(ValueError, match="split_fractions"):
        load_config("text", overrides=["text.split_fractions=[0.5, 0.5]"])
    assert load_config("text", overrides=["text.max_length=16"]).text.max_length == 16
