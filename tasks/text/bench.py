"""Text task: the transformer against TF-IDF + logistic regression and the majority class,
on two data sets and three seeds, with the ablation the issue asks for.

For each data set (Rotten Tomatoes, the default; BBC News through the user-data path) and
seed, the pipeline runs in a fresh OUTPUT_DIR under bench/results/, twice: the transformer
alone (`model.over_baseline=false`), then the transformer over the wide part's logits
(the default; ExampleGen, StatisticsGen and Transform are cached from the first run).
Every figure is on the test split, which chooses nothing, from the run's own Scorer:

* transformer alone, and transformer over the wide part (the "both" of the ablation);
* TF-IDF + logistic regression, the challenger fitted on train in the same run;
* the wide part alone: the same with character n-grams (`model.prior_char_ngrams`),
  the run's own, scored by its Scorer beside the transformer it is part of;
* the majority class of the train split.

Means and spreads (population std) over seeds, and the Trainer's examples per second.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from bench import pipeline_stats
from components.scoring import SCORES_PROPERTY
from pipeline import mlmd
from pipeline.config import load_config
from tasks.text import bbc_source

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
SEEDS = (0, 1, 2)
DATASETS = {  # name -> (config path or None for the default, CSV writer or None)
    "rotten_tomatoes": (None, None),
    "bbc_news": (str(pathlib.Path(__file__).parent / "examples" / "bbc_news.yaml"), bbc_source.prepare_csv),
}
VARIANTS = {"transformer alone": ["model.over_baseline=false"], "transformer over the wide part": []}


def run_pipeline(output_dir: str, config: str | None, data: str | None, seed: int, overrides: list[str]) -> None:
    command = [sys.executable, "-m", "pipeline.run_local", "--task", "text", "--output-dir", output_dir,
               "--set", f"seed={seed}"]  # fmt: skip
    command += (["--config", config] if config else []) + (["--data", data] if data else [])
    for item in overrides:
        command += ["--set", item]
    subprocess.run(command, check=True)


def measure_run(config) -> dict:
    _, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    scores = json.loads(mlmd.custom(by_node["Scorer"].outputs["scores"][0], SCORES_PROPERTY))
    trainer = by_node["Trainer"]
    epochs = pipeline_stats.epochs_trained(trainer.outputs["model_run"][0].uri)
    train = mlmd.custom(by_node["ExampleGen"].outputs["examples"][0], "examples_train")
    blessed = mlmd.custom(by_node["Evaluator"].outputs["blessing"][0], "blessed") == 1
    return {"scores": scores, "examples_per_s": train * epochs / trainer.seconds, "blessed": blessed,
            "majority": majority_accuracy(by_node["ExampleGen"].outputs["examples"][0].uri)}  # fmt: skip


def majority_accuracy(examples_uri: str) -> dict:
    """Accuracy and macro-F1 on test of always predicting the train split's most frequent class."""
    from sklearn.metrics import f1_score

    from components.examples_io import read_split
    from data import features

    def labels(split):
        import tensorflow as tf

        return [tf.train.Example.FromString(r).features.feature[features.LABEL_KEY].bytes_list.value[0]
                for r in read_split(examples_uri, split)]  # fmt: skip

    train, test = labels("train"), labels("test")
    majority = max(set(train), key=train.count)
    predicted = [majority] * len(test)
    return {"accuracy": float(np.mean([t == majority for t in test])),
            "macro_f1": float(f1_score(test, predicted, average="macro", zero_division=0))}  # fmt: skip


def summary(name: str, values: list[dict], key: str) -> dict:
    accuracy = [v[key]["accuracy"] for v in values]
    f1 = [v[key]["macro_f1"] for v in values]
    return {"row": name, "test_accuracy": float(np.mean(accuracy)), "accuracy_std": float(np.std(accuracy)),
            "test_macro_f1": float(np.mean(f1)), "macro_f1_std": float(np.std(f1)), "seeds": len(values)}  # fmt: skip


def run(args) -> list[dict]:
    rows = []
    for dataset, (config_path, writer) in DATASETS.items():
        per_variant: dict[str, list] = {v: [] for v in VARIANTS}
        for seed in SEEDS:
            output_dir = os.path.join(RESULTS_DIR, f"text_{dataset}_seed{seed}")
            shutil.rmtree(output_dir, ignore_errors=True)
            data = writer(os.path.join(output_dir, f"{dataset}.csv")) if writer else None
            for variant, overrides in VARIANTS.items():
                run_pipeline(output_dir, config_path, data, seed, overrides)
                config = load_config("text", config_path, output_dir=output_dir)
                per_variant[variant].append(measure_run(config))
        runs = per_variant["transformer over the wide part"]
        for variant, measured in per_variant.items():
            row = summary(f"{dataset}: {variant}", [m["scores"]["test"] for m in measured], "model")
            row["examples_per_s"] = float(np.mean([m["examples_per_s"] for m in measured]))
            row["note"] = f"blessed in {sum(m['blessed'] for m in measured)} of {len(measured)} runs"
            rows.append(row)
        rows.append({**summary(f"{dataset}: tf-idf + logreg (challenger)", [m["scores"]["test"] for m in runs], "baseline"),
                     "note": "words and bigrams, fitted on train in the same runs"})  # fmt: skip
        rows.append({**summary(f"{dataset}: the wide part alone", [m["scores"]["test"] for m in runs], "wide"),
                     "note": "the challenger plus character n-grams, fitted on the same splits"})  # fmt: skip
        rows.append({**summary(f"{dataset}: majority class", [{"m": m["majority"]} for m in runs], "m"),
                     "note": "the train split's most frequent class"})  # fmt: skip
    return rows
