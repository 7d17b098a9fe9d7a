"""Text data: the packaged default, seeded stratified splits, length buckets (fast, no TF)."""
import pandas as pd
import pytest

from data import features, text_source
from pipeline.config import TextConfig, load_config


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


def test_splits_are_seeded_and_stratified():
    labels = pd.Series(["a"] * 700 + ["b"] * 300 + ["c"] * 100)
    config = TextConfig(split_fractions=[0.6, 0.2, 0.2], stratify=True)
    first = text_source.split_rows(labels, config, seed=1)
    assert (first == text_source.split_rows(labels, config, seed=1)).all()
    assert (first != text_source.split_rows(labels, config, seed=2)).any()
    table = pd.crosstab(labels, first)
    assert table.loc["a"].to_dict() == {"eval": 140, "test": 140, "train": 420}
    assert table.loc["c"].to_dict() == {"eval": 20, "test": 20, "train": 60}
    unstratified = text_source.split_rows(labels, TextConfig(stratify=False), seed=1)
    assert (pd.Series(unstratified).value_counts() > 0).all()


def test_length_buckets():
    config = TextConfig(length_buckets=[2, 4])
    assert [text_source.length_bucket(t, config) for t in ["a b", "a b c", "a b c d e", None]] == [
        "short", "medium", "long", "short",
    ]  # fmt: skip


def test_text_config_is_validated():
    with pytest.raises(ValueError, match="split_fractions"):
        load_config("text", overrides=["text.split_fractions=[0.5, 0.5]"])
    assert load_config("text", overrides=["text.max_length=16"]).text.max_length == 16
