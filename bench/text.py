"""Text task: the pushed transformer vs TF-IDF + logistic regression on the same test split,
plus the pipeline's end-to-end wall time and per-component times from ML Metadata.

Uses the latest run under `--output-dir` (OUTPUT_DIR/text/); runs `make run-local TASK=text`'s
pipeline first when nothing has been pushed there yet. Both models see the ExampleGen's
seeded train split and are scored on its held-out test split (never used for training,
tuning or blessing). The baseline is fitted here, in the same process, so the comparison
holds on whatever machine runs it.
"""
from __future__ import annotations

import glob
import os
import time

import tensorflow as tf
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from bench import pipeline_stats
from data import features
from pipeline.config import load_config

PREDICT_BATCH = 256


def read_split(examples_uri: str, split: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of one split of an Examples artifact."""
    files = glob.glob(os.path.join(examples_uri, f"Split-{split}", "*"))
    texts, labels = [], []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        feature = example.features.feature
        texts.append(feature[features.TEXT_KEY].bytes_list.value[0].decode())
        labels.append(feature[features.LABEL_KEY].bytes_list.value[0].decode())
    return texts, labels


def transformer_predictions(serving_dir: str, texts: list[str]) -> tuple[list[str], float]:
    """Labels from the pushed model's `serving_default` on raw texts, and texts per second."""
    from pipeline.predict import latest_model_dir
    from pipeline.predict_text import classify

    serve = tf.saved_model.load(latest_model_dir(serving_dir)).signatures["serving_default"]
    started = time.perf_counter()
    labels = [label for i in range(0, len(texts), PREDICT_BATCH) for label, _ in classify(serve, texts[i : i + PREDICT_BATCH])]
    return labels, len(texts) / (time.perf_counter() - started)


def tfidf_baseline(train: tuple[list[str], list[str]], texts: list[str], seed: int) -> tuple[list[str], float]:
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(max_iter=2000, C=4.0, random_state=seed)
    model.fit(vectorizer.fit_transform(train[0]), train[1])
    return list(model.predict(vectorizer.transform(texts))), time.perf_counter() - started


def scores(truth: list[str], predicted: list[str]) -> dict:
    return {
        "test_accuracy": accuracy_score(truth, predicted),
        "test_macro_f1": f1_score(truth, predicted, average="macro"),
    }


def run(args) -> list[dict]:
    config = load_config("text", output_dir=getattr(args, "output_dir", "output"))
    if not glob.glob(os.path.join(config.serving_dir, "*")):
        from pipeline import run_local

        if run_local.main(["--task", "text", "--output-dir", config.output_dir]) != 0:
            raise RuntimeError("the text pipeline failed; see its output above")
    run_context, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    examples_uri = by_node["ExampleGen"].outputs["examples"][0].uri
    train, test = read_split(examples_uri, "train"), read_split(examples_uri, "test")

    transformer, per_second = transformer_predictions(config.serving_dir, test[0])
    baseline, baseline_fit_s = tfidf_baseline(train, test[0], config.seed)
    wall = (max(e.execution.last_update_time_since_epoch for e in executions)
            - min(e.execution.create_time_since_epoch for e in executions)) / 1000  # fmt: skip
    rows = [
        {"row": "transformer (pushed)", **scores(test[1], transformer), "seconds": by_node["Trainer"].seconds,
         "note": f"serving {per_second:.0f} texts/s; train {len(train[0])}, test {len(test[0])}"},
        {"row": "tfidf+logreg", **scores(test[1], baseline), "seconds": baseline_fit_s, "note": "fit here, 1-2 grams"},
        {"row": "pipeline wall", "seconds": wall, "note": f"run {run_context.name}"},
    ]  # fmt: skip
    rows += pipeline_stats.component_rows(executions)
    # Training throughput: examples (and tokens, padding included) per second of the Trainer.
    trainer = by_node["Trainer"]
    epochs = pipeline_stats.epochs_trained(trainer.outputs["model_run"][0].uri)
    examples_per_s = len(train[0]) * epochs / trainer.seconds
    rows.append({
        "row": "trainer throughput",
        "examples_per_s": examples_per_s,
        "tokens_per_s": examples_per_s * config.text.max_length,
        "note": f"{epochs} epochs x {len(train[0])} examples in {trainer.seconds:.0f}s (export included)",
    })  # fmt: skip
    return rows
