"""Speech: the SpeechTransformer (CTC) against a small CNN classifier and the MFCC logistic regression.

The speech pipeline runs on the default data (the free-spoken-digit recordings) twice, in
fresh OUTPUT_DIRs under bench/results/ (`--reuse-runs`: the runs already there): on the
data set's own split (`speech.split_by=dataset`), and on the default speaker-disjoint split
(`speech.split_by=speaker`: train on two speakers, choose on a third, test on the fourth).
Every speaker in turn as the test voice: `tasks/speech/bench_loso.py`. From each run: the candidate's and the MFCC
challenger's test accuracy (exact transcript) and CER (its Scorer), and the Trainer's
training clips/s.

Then, on the same Transform output (same split, same spectrograms), the SpeechTransformer
with the Tuner's best hyperparameters is retrained in-process for the seeds after the
first (the pipeline's own run is its first seed), and the small CNN of the vision
benchmark (models/small_cnn.py), here a classifier over the transcripts seen in train on
the log-mel spectrogram (the usual public approach on this data), for each seed, with the
same augmentation, optimizer schedule, epochs and best-eval-epoch rule. Every figure is on
the test split, which chooses nothing.
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
from pipeline import mlmd
from pipeline.config import load_config

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
SPLITS = {  # name -> (OUTPUT_DIR under RESULTS_DIR, config overrides, seeds of the in-process models)
    # On two cores one SpeechTransformer trains in about 10 minutes: the speaker-disjoint split gets
    # the pipeline's own run and one CNN seed.
    "standard split": ("speech", ["speech.split_by=dataset"], (0, 1, 2)),
    "speaker-disjoint": ("speech_speaker", ["speech.split_by=speaker"], (0,)),
}


def run_pipeline(output_dir: str, overrides: list[str]) -> None:
    sets = [a for item in overrides for a in ("--set", item)]
    subprocess.run([sys.executable, "-m", "pipeline.run_local", "--task", "speech", "--output-dir", output_dir, *sets], check=True)


def transformed(transform_uri: str, examples_uri: str, split: str) -> dict[str, np.ndarray]:
    """{spectrogram (N, F, M), frames (N,), characters (N, L)} of one split of the Transform's output."""
    import tensorflow as tf
    import tensorflow_transform as tft

    spec = tft.TFTransformOutput(transform_uri).transformed_feature_spec()
    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(256).map(lambda r: tf.io.parse_example(r, spec))
    parts = list(dataset.as_numpy_iterator())
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def fit_timed(model, train, evaluation, config) -> tuple[int, float]:
    from components import training

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as logs:
        history = training.fit(model, train, evaluation, config, logs)
    return len(history.history["loss"]), time.perf_counter() - started


def train_transformer(config, hp, data: dict, seed: int, splits: tuple = ("test",)) -> dict:
    """Test accuracy and CER (as served, and greedy), training clips/s and parameters of the
    SpeechTransformer, trained as the Trainer trains; `splits`: {split: the same scores} of each."""
    import keras
    import tensorflow as tf

    from models.speech_transformer import (
        augment_batches,
        build_speech_transformer,
        crop_batches,
        length_sorted_batches,
    )
    from tasks.speech import module

    keras.utils.set_random_seed(seed)
    batch = config.trainer.batch_size
    count = len(data["train"]["frames"])
    model = build_speech_transformer(module.model_config(config, hp, config.trainer.epochs * math.ceil(count / batch)))

    def xy(split):
        return module.model_inputs(data[split]), data[split]["characters"]

    train = tf.data.Dataset.from_tensor_slices(xy("train")).shuffle(count, seed=seed).batch(batch)
    train = length_sorted_batches(train, batch, module.LENGTH_WINDOW, seed)
    train = crop_batches(augment_batches(train, module.augmentation(config), seed))
    evaluation = crop_batches(tf.data.Dataset.from_tensor_slices(xy("eval")).batch(256).cache())
    epochs, seconds = fit_timed(model, train, evaluation, config)
    scores = {split: decoded_scores(config, model, data, split) for split in {"test", *splits}}
    return {**scores["test"], "clips_per_s": count * epochs / seconds, "params": int(model.count_params()),
            "splits": {split: scores[split] for split in splits}}  # fmt: skip


def decoded_scores(config, model, data: dict, split: str) -> dict:
    """{accuracy, cer} as `speech.vocabulary` decodes, and {greedy_accuracy, greedy_cer} of one split."""
    import tensorflow as tf

    from components.transcripts import transcript_scores
    from tasks.speech import module

    alphabet = config.speech.alphabet
    logits = tf.constant(model.predict(module.model_inputs(data[split]), batch_size=256, verbose=0))
    truth = list(module.transcripts_of(data[split]["characters"], alphabet))
    served = module.decoder(config, module.transcripts_of(data["train"]["characters"], alphabet))
    said = {name: [t.decode() for t in decode(logits).numpy()] for name, decode in (("", served), ("greedy_", module.greedy_decoder(config)))}
    return {f"{name}{key}": value for name, words in said.items() for key, value in transcript_scores(truth, words).items()}


def train_cnn(config, data: dict, seed: int, splits: tuple = ("test",)) -> dict:
    """The same for the small CNN, a classifier over the transcripts seen in train (one decoding)."""
    import keras
    import tensorflow as tf

    from components.transcripts import transcript_scores
    from models.small_cnn import SmallCNNConfig, build_small_cnn
    from models.speech_transformer import augment_batches
    from tasks.speech import module

    keras.utils.set_random_seed(seed)
    alphabet = config.speech.alphabet
    words = {split: module.transcripts_of(data[split]["characters"], alphabet) for split in data}
    classes = sorted(set(words["train"]))
    index = {w: i for i, w in enumerate(classes)}
    batch = config.trainer.batch_size
    count = len(words["train"])
    model = build_small_cnn(SmallCNNConfig(
        (config.speech.num_frames, config.speech.mel_bins), 1, len(classes),
        decay_steps=config.trainer.epochs * math.ceil(count / batch),
    ))  # fmt: skip

    def xy(split):  # unseen transcripts (none on this data) count as class 0: wrong either way
        return module.model_inputs(data[split]), np.array([index.get(w, 0) for w in words[split]])

    def as_image(inputs, labels):
        return inputs[0][..., None], labels

    train = tf.data.Dataset.from_tensor_slices(xy("train")).shuffle(count, seed=seed).batch(batch)
    train = augment_batches(train, module.augmentation(config), seed).map(as_image)
    evaluation = tf.data.Dataset.from_tensor_slices(xy("eval")).batch(256).map(as_image).cache()
    epochs, seconds = fit_timed(model, train, evaluation, config)
    scores = {}
    for split in {"test", *splits}:
        predicted = model.predict(data[split]["spectrogram"][..., None], batch_size=256, verbose=0).argmax(-1)
        scores[split] = transcript_scores(list(words[split]), [classes[i] for i in predicted])
    return {**scores["test"], "clips_per_s": count * epochs / seconds, "params": int(model.count_params()),
            "splits": {split: scores[split] for split in splits}}  # fmt: skip


def spread(name: str, runs: list[dict], note: str) -> dict:
    accuracy, cer = [r["accuracy"] for r in runs], [r["cer"] for r in runs]
    return {"row": name, "test_accuracy": float(np.mean(accuracy)), "accuracy_std": float(np.std(accuracy)),
            "test_cer": float(np.mean(cer)), "seeds": len(runs), "per_seed": " ".join(f"{a:.3f}" for a in accuracy),
            "train_clips_per_s": float(np.mean([r["clips_per_s"] for r in runs])), "params": runs[0]["params"],
            "note": note}  # fmt: skip


def split_rows(name: str, output_dir: str, overrides: list[str], seeds: tuple, reuse: bool) -> list[dict]:

    config = load_config("speech", output_dir=output_dir, overrides=overrides)
    if not (reuse and os.path.exists(config.metadata_path)):
        shutil.rmtree(output_dir, ignore_errors=True)
        run_pipeline(output_dir, overrides)
    run = pipeline_stats.scored_run(config.metadata_path)
    by_node, scores, blessed = run["by_node"], run["scores"], run["blessed"]
    how = mlmd.custom(by_node["ExampleGen"].outputs["examples"][0], "split_method")
    rows = [
        {"row": f"[{name}] pipeline: MFCC logistic regression", "test_accuracy": scores["test"]["baseline"]["accuracy"],
         "test_cer": scores["test"]["baseline"]["cer"], "seeds": 1, "note": f"the challenger; split: {how}"},
    ]  # fmt: skip
    data = {split: transformed(*pipeline_stats.transform_outputs(by_node), split) for split in ("train", "eval", "test")}
    hp = pipeline_stats.best_hyperparameters(by_node)
    print(f"[{name}] pipeline: MFCC {rows[0]} / SpeechTransformer {scores['test']['model']}", flush=True)
    transformers = [train_transformer(config, hp, data, seed) for seed in seeds[1:]]
    print(f"[{name}] in-process SpeechTransformer seeds {seeds[1:]}: {transformers}", flush=True)
    transformers.insert(0, {**scores["test"]["model"], "clips_per_s": run["train_count"] * run["epochs"] / run["trainer_seconds"],
                            "params": transformers[0]["params"] if transformers else None})  # fmt: skip
    cnns = [train_cnn(config, data, seed) for seed in seeds]
    blessing = "blessed and pushed" if blessed else "NOT blessed"
    rows.append(spread(f"[{name}] SpeechTransformer: the pipeline's run + {len(seeds) - 1} in-process seed(s)", transformers,
                       f"pipeline run {blessing}, eval accuracy {scores['eval']['model']['accuracy']:.4f}; {dict(hp.values)}"))  # fmt: skip
    rows.append(spread(f"[{name}] in-process: small CNN classifier", cnns, "conv 32-64-128-128 on the log-mel spectrogram"))
    print(f"[{name}] {rows[1:]}", flush=True)
    return rows


def run(args) -> list[dict]:
    reuse = getattr(args, "reuse_runs", False)
    most = getattr(args, "seeds", None)  # `--seeds N`: at most N seeds per split (the first is the pipeline's run)
    return [row for name, (folder, overrides, seeds) in SPLITS.items()
            for row in split_rows(name, os.path.join(RESULTS_DIR, folder), overrides, seeds[:most], reuse)]  # fmt: skip
