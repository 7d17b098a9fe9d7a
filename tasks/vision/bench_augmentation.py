"""Augmentation experiment: train ViT variants on the Transform output of existing vision runs,
and read back what fresh runs measured.

Chosen on eval, never on test: `variants` trains each variant (a set of `model.` keys, e.g.
`rotation=10,scale=0.1`; a dotted key such as `trainer.epochs=20` is taken as it is) on the train split of each run's Transform output, with the run's own
config and seed, and prints and appends to a JSON-lines file only the eval accuracy of the kept
epoch; the test split is not even loaded. `runs` prints one row per pipeline run (seed, seconds,
Trainer seconds, kept epoch, eval, test) for the table on the vision page of docs/, once a
recipe is chosen.

    python -m tasks.vision.bench_augmentation variants --runs /tmp/vision-h-seed{seed} --seeds 42 1 2 3 4 \\
        --variant affine:rotation=10,scale=0.1,trainer.epochs=20 --out /tmp/vision-h/variants.jsonl
    python -m tasks.vision.bench_augmentation runs --runs /tmp/vision-f-seed{seed} --seeds 42 1 2 3 4
    python -m tasks.vision.bench_augmentation kept --runs /tmp/vision-f-seed{seed} --out /tmp/kept.jsonl

`kept` scores the models the runs kept, rebuilt from their warm-start weights, on eval only, as
exported and with levers that need no retraining: the mean prediction of shifted copies of each
image (test-time augmentation, `SHIFTS`) and batch norm's statistics re-estimated over train.
"""
from __future__ import annotations

import argparse
import json
import time

from pipeline.config import load_config

SEEDS = (42, 1, 2, 3, 4)
# `kept`'s views: (rows, columns) shifts in pixels whose predictions are averaged
SHIFTS = {
    "single": [(0, 0)],
    "plus1": [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)],
    "grid1": [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)],
    "plus2": [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)],
}
BATCH_NORM_PASSES = 2  # over train, at batch norm's momentum 0.9: the statistics are the last batches'


def run_config(runs: str, seed: int, overrides: list[str] = ()):
    return load_config("vision", overrides=[f"seed={seed}", *overrides], output_dir=runs.format(seed=seed))


def record(row: dict, out: str) -> None:
    """One result: printed, and appended to the JSON-lines file `out`."""
    print(json.dumps(row), flush=True)
    with open(out, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def variants(args) -> None:
    from bench import pipeline_stats
    from models.vision_transformer import build_vision_transformer
    from tasks.vision import bench, module

    for seed in args.seeds:
        by_node = pipeline_stats.scored_run(run_config(args.runs, seed).metadata_path)["by_node"]
        data = {split: bench.transformed(*pipeline_stats.transform_outputs(by_node), split) for split in ("train", "eval")}
        num_classes = int(data["train"][1].max()) + 1
        hp = pipeline_stats.best_hyperparameters(by_node)
        for variant in args.variant:
            name, _, keys = variant.partition(":")
            overrides = [pair if "." in pair.split("=")[0] else f"model.{pair}" for pair in keys.split(",") if pair]
            config = run_config(args.runs, seed, overrides)
            started = time.perf_counter()
            scores = bench.train_and_score(
                lambda steps, config=config, hp=hp, classes=num_classes: build_vision_transformer(module.vit_config(config, hp, classes, steps)),
                data, config, seed,
            )  # fmt: skip
            row = {"variant": name, "overrides": overrides, "seed": seed, "eval_accuracy": scores["eval_accuracy"],
                   "eval_log_loss": round(scores["eval_log_loss"], 4),
                   "kept_epoch": scores["kept_epoch"], "epochs": config.trainer.epochs,
                   "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
            record(row, args.out)


def shifted(images, dy: int, dx: int):
    """images (N, H, W, C) moved by dy rows and dx columns, the uncovered edge filled with each
    image's background (its minimum)."""
    import numpy as np

    fill = images.min(axis=(1, 2, 3), keepdims=True)  # (N, 1, 1, 1)
    out = np.broadcast_to(fill, images.shape).copy()
    height, width = images.shape[1:3]
    out[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = \
        images[:, max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)]  # fmt: skip
    return out


def kept(args) -> None:
    for seed in args.seeds:
        kept_of_run(args, seed)


def kept_of_run(args, seed: int) -> None:
    """`kept` for one run: a JSON line per variant, its eval accuracy and log loss."""
    import numpy as np
    import tensorflow as tf

    from bench import pipeline_stats
    from components import warm_start
    from models.vision_transformer import augment_batches, build_vision_transformer
    from tasks.vision import bench, module

    config = run_config(args.runs, seed)
    by_node = pipeline_stats.scored_run(config.metadata_path)["by_node"]
    transform_uri, examples_uri = pipeline_stats.transform_outputs(by_node)
    data = {split: bench.transformed(transform_uri, examples_uri, split) for split in ("train", "eval")}
    hp = pipeline_stats.best_hyperparameters(by_node)

    def restored():
        model = build_vision_transformer(module.vit_config(config, hp, int(data["train"][1].max()) + 1, 1))
        done, why = warm_start.restore(model, by_node["Trainer"].outputs["model"][0].uri, transform_uri)
        if not done:
            raise SystemExit(f"seed {seed}: {why}")
        return model

    def row(variant: str, probabilities) -> None:
        labels = data["eval"][1]
        scores = {"variant": variant, "seed": seed, "eval_accuracy": float((probabilities.argmax(-1) == labels).mean()),
                  "eval_log_loss": round(bench.log_loss(probabilities, labels), 4)}  # fmt: skip
        record(scores, args.out)

    model = restored()
    for name, shifts in SHIFTS.items():
        views = [model.predict(shifted(data["eval"][0], dy, dx), batch_size=256, verbose=0) for dy, dx in shifts]
        row(f"views_{name}", np.mean(views, axis=0))
    for augmented in (False, True):
        model = restored()
        batches = tf.data.Dataset.from_tensor_slices(data["train"]).shuffle(len(data["train"][1]), seed=seed)
        batches = batches.batch(config.trainer.batch_size)
        if augmented:
            batches = augment_batches(batches, module.augmentation(config), seed)
        for _ in range(BATCH_NORM_PASSES):
            for images, _labels in batches:
                model(images, training=True)  # updates the moving statistics; dropout does not reach them
        row("batch_norm_" + ("augmented" if augmented else "train"), model.predict(data["eval"][0], batch_size=256, verbose=0))


def runs(args) -> None:
    from bench import pipeline_stats
    from components import training

    print("| seed | components (s) | Trainer (s) | kept epoch | eval | test |")
    for seed in args.seeds:
        config = run_config(args.runs, seed)
        stats = pipeline_stats.scored_run(config.metadata_path)
        executions = stats["by_node"].values()
        kept = training.kept_epoch(stats["by_node"]["Trainer"].outputs["model"][0].uri)
        # first component's start to the last one's end (the process's imports are not in it)
        span = (max(e.execution.last_update_time_since_epoch for e in executions)
                - min(e.execution.create_time_since_epoch for e in executions)) / 1000  # fmt: skip
        scores = stats["scores"]
        print(f"| {seed} | {span:.0f} | {stats['trainer_seconds']:.0f} | {kept} | "
              f"{scores['eval']['model']['accuracy']:.3f} | {scores['test']['model']['accuracy']:.3f} |")  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("variants", "runs", "kept"))
    parser.add_argument("--runs", required=True, help="output dir of each run, with {seed}")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--variant", action="append", default=[], help="name:key=value,key=value (model. keys)")
    parser.add_argument("--out", default="vision-variants.jsonl")
    args = parser.parse_args(argv)
    {"variants": variants, "runs": runs, "kept": kept}[args.command](args)


if __name__ == "__main__":
    main()
