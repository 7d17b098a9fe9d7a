"""Vision: the ViT against a small CNN of similar size and logistic regression on pixels.

The vision pipeline runs once on the default data (the 5,000 MNIST digits) in a fresh
OUTPUT_DIR under bench/results/ (`--reuse-runs`: the run already there). From that run:
the pushed (or candidate) ViT's and the pixel challenger's test accuracy (its Scorer),
and the Trainer's training images/s.

Then, on the same Transform output (same split, same standardized pixels), the ViT with
the Tuner's best hyperparameters and the CNN are trained in-process with the same
augmentation, optimizer, schedule, epochs and best-eval-epoch rule, and scored on the
same test examples: the CNN (its widths scaled to the ViT's parameter count, whatever size
the Tuner picked) for each seed in SEEDS, the ViT for the seeds after the
first (the pipeline's own run is its first seed), so both rows have three seeds.
Every figure is on the test split, which chooses nothing.
"""
from __future__ import annotations

import glob
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench import pipeline_stats
from pipeline.config import load_config

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
SEEDS = (0, 1, 2)  # in-process retraining seeds (the split stays the pipeline's)


def run_pipeline(output_dir: str) -> None:
    subprocess.run([sys.executable, "-m", "pipeline.run_local", "--task", "vision", "--output-dir", output_dir], check=True)


def transformed(transform_uri: str, examples_uri: str, split: str):
    """(pixels (N, H, W, C), label ids (N,)) of one split of the Transform's output."""
    import tensorflow as tf
    import tensorflow_transform as tft

    from tasks.vision import module

    spec = tft.TFTransformOutput(transform_uri).transformed_feature_spec()
    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(512).map(lambda r: tf.io.parse_example(r, spec))
    parts = [module.to_xy(batch) for batch in dataset]
    return np.concatenate([p[0].numpy() for p in parts]), np.concatenate([p[1].numpy() for p in parts])


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true class; probabilities (N, classes), labels (N,)."""
    true_class = probabilities[np.arange(len(labels)), labels]  # (N,)
    return float(-np.log(np.maximum(true_class, 1e-7)).mean())


def train_and_score(build, data: dict, config, seed: int) -> dict:
    """Eval accuracy (the kept epoch's), the kept epoch, test accuracy (when `data` has a test split),
    training images/s and parameters of one model, trained as the Trainer trains."""
    import keras
    import tensorflow as tf

    from components import training
    from models.vision_transformer import augment_batches
    from tasks.vision import module

    keras.utils.set_random_seed(seed)
    batch = config.trainer.batch_size
    steps = config.trainer.epochs * math.ceil(len(data["train"][1]) / batch)
    model = build(steps)
    train = tf.data.Dataset.from_tensor_slices(data["train"]).shuffle(len(data["train"][1]), seed=seed).batch(batch)
    train = augment_batches(train, module.augmentation(config), seed)
    evaluation = tf.data.Dataset.from_tensor_slices(data["eval"]).batch(256).cache()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as logs:
        history = training.fit(model, train, evaluation, config, logs)
    seconds = time.perf_counter() - started
    epochs = len(history.history["loss"])

    def scored(split: str) -> tuple[np.ndarray, float]:
        """(probabilities (N, classes), accuracy) of the kept model on `split`."""
        probabilities = model.predict(data[split][0], batch_size=256, verbose=0)
        return probabilities, float((probabilities.argmax(-1) == data[split][1]).mean())

    eval_probabilities, eval_accuracy = scored("eval")
    scores = {
        "eval_accuracy": eval_accuracy,
        "eval_log_loss": log_loss(eval_probabilities, data["eval"][1]),  # finer than accuracy near 0.99
        "kept_epoch": int(history.kept_epoch),
        "train_images_per_s": len(data["train"][1]) * epochs / seconds,
        "params": int(model.count_params()),
    }
    if "test" in data:
        scores["test_accuracy"] = scored("test")[1]
    return scores


def spread(name: str, runs: list[dict], note: str) -> dict:
    accuracy = [r["test_accuracy"] for r in runs]
    return {"row": name, "test_accuracy": float(np.mean(accuracy)), "accuracy_std": float(np.std(accuracy)),
            "seeds": len(runs), "per_seed": " ".join(f"{a:.3f}" for a in accuracy),
            "train_images_per_s": float(np.mean([r["train_images_per_s"] for r in runs])),
            "params": runs[0]["params"], "note": note}  # fmt: skip


def run(args) -> list[dict]:

    from models.small_cnn import SmallCNNConfig, build_small_cnn, filters_sized_to
    from models.vision_transformer import build_vision_transformer
    from tasks.vision import module

    output_dir = os.path.join(RESULTS_DIR, "vision")
    config = load_config("vision", output_dir=output_dir)
    if not (getattr(args, "reuse_runs", False) and os.path.exists(config.metadata_path)):
        shutil.rmtree(output_dir, ignore_errors=True)
        run_pipeline(output_dir)
    run = pipeline_stats.scored_run(config.metadata_path)
    by_node, scores, blessed = run["by_node"], run["scores"], run["blessed"]
    rows = [
        {"row": "pipeline: ViT (Tuner's pick)", "test_accuracy": scores["test"]["model"]["accuracy"],
         "train_images_per_s": run["train_count"] * run["epochs"] / run["trainer_seconds"], "seeds": 1,
         "note": f"{'blessed and pushed' if blessed else 'NOT blessed'}; eval accuracy {scores['eval']['model']['accuracy']:.4f}"},
        {"row": "pipeline: logistic regression on pixels", "test_accuracy": scores["test"]["baseline"]["accuracy"],
         "seeds": 1, "note": "the challenger, fitted on train in the same run"},
    ]  # fmt: skip

    data = {split: transformed(*pipeline_stats.transform_outputs(by_node), split) for split in ("train", "eval", "test")}
    num_classes = int(max(labels.max() for _, labels in data.values())) + 1
    hp = pipeline_stats.best_hyperparameters(by_node)
    vits = [
        train_and_score(lambda steps: build_vision_transformer(module.vit_config(config, hp, num_classes, steps)), data, config, seed)
        for seed in SEEDS[1:]
    ]
    pipeline_vit = {"test_accuracy": rows[0]["test_accuracy"], "train_images_per_s": rows[0]["train_images_per_s"],
                    "params": vits[0]["params"]}  # fmt: skip
    vits.insert(0, pipeline_vit)
    vit = module.vit_config(config, hp, num_classes, 1)
    filters = filters_sized_to(vits[0]["params"], config.vision.channels, num_classes)

    def cnn(steps):
        return build_small_cnn(SmallCNNConfig(tuple(config.vision.image_size), config.vision.channels, num_classes,
                                              filters=filters, learning_rate=vit.learning_rate, weight_decay=vit.weight_decay,
                                              label_smoothing=vit.label_smoothing, ema_momentum=vit.ema_momentum,
                                              decay_steps=steps))  # fmt: skip

    cnns = [train_and_score(cnn, data, config, seed) for seed in SEEDS]
    rows.append(spread("ViT: the pipeline's run + 2 in-process seeds", vits,
                       f"patch {vit.patch_size}, width {vit.model_dim}, depth {vit.num_layers}, heads {vit.num_heads}"))  # fmt: skip
    rows.append(spread("in-process: small CNN", cnns,
                       f"conv {'-'.join(map(str, filters))} (sized to the ViT), same augmentation and schedule"))
    return rows
