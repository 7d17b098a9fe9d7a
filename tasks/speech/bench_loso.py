"""Speech for voices never heard: leave-one-speaker-out (LOSO) folds of the SpeechTransformer, the
small CNN and the MFCC challenger, in one process, on the same spectrograms.

Each fold tests on one speaker, selects (the best eval epoch, the challenger's penalty) on another,
and trains on the rest: with the four vendored speakers, 2 train, 1 eval, 1 test, the eval speaker
the next one in sorted order. A "standard" fold (the data set's own split, eval a seeded 10 % of
its train part) is measured beside them, so that no lever buys voices at the cost of that score.

The spectrograms are made once for every clip, in-process, by the Transform graph's own functions
(`tasks.speech.preprocessing`: decode, resample, log-mel, frame counts, character ids), and cached.
Transform's last step, the per-mel-bin standardization, is fitted on the train split's real frames:
here it is fitted per fold on that fold's train speakers' real frames (the same population mean and
variance `tft.mean` / `tft.var` compute), so no fold sees its eval or test speaker's statistics.
With `speech.normalize: cmvn` each clip is first normalized by its own real frames, as the
Transform graph then does.

    python -m tasks.speech.bench_loso --lever base --lever cmvn:speech.normalize=cmvn \\
        --lever "speed:model.augmentation.speed=0.1;model.augmentation.warp=0.1" --models transformer,mfcc

Every row: per-fold and mean ± standard deviation over folds of test accuracy and CER, lexicon
and greedy decoding (the CNN and the challenger classify, so they have one decoding). The eval
speaker's mean is printed too: levers are chosen on it, the test figure is reported.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np

from data.folders import read_bytes
from pipeline.config import load_config
from tasks.speech import source

CACHE = os.path.join(tempfile.gettempdir(), "speech_loso_cache")
MODELS = ("transformer", "cnn", "mfcc")
STANDARD = "standard"  # the fold on the data set's own split


def raw_clips(config) -> dict[str, np.ndarray]:
    """Every vendored clip's unstandardized log-mel (N, F, M), frames (N,), character ids (N, L),
    speaker (N,), the data set's own split (N,): the Transform graph's functions, run once, cached."""
    import tensorflow as tf

    from tasks.speech import preprocessing

    speech = config.speech
    key = f"{speech.sample_rate}_{speech.max_seconds}_{speech.frame_ms}_{speech.step_ms}_{speech.mel_bins}"
    path = os.path.join(CACHE, f"clips_{key}.npz")
    if not os.path.exists(path):
        write_cache(path, speech)
    with np.load(path) as cached:
        clips = dict(cached)
    clips["log_mel"] = preprocessing.per_utterance(tf.constant(clips["log_mel"]), tf.constant(clips["frames"]), speech).numpy()
    return clips


def write_cache(path: str, speech) -> None:
    import tensorflow as tf

    from tasks.speech import preprocessing

    folder = str(source.DEFAULT_FOLDER)
    frame = source.list_clips(folder, speech)
    parts = []
    for start in range(0, len(frame), 200):
        rows = frame.iloc[start : start + 200]
        audio = tf.constant([read_bytes(folder, f) for f in rows["file"]])
        samples, lengths = preprocessing.decode_clips(audio, speech)
        frames = preprocessing.frame_counts(lengths, speech)
        energies = preprocessing.log_mel(samples, speech)  # (B, F, M)
        ids = preprocessing.character_ids(tf.constant(list(rows["transcript"])), speech)
        parts.append((energies.numpy(), frames.numpy(), ids.numpy()))
    clips = {
        "log_mel": np.concatenate([p[0] for p in parts]),
        "frames": np.concatenate([p[1] for p in parts]).astype(np.int64),
        "characters": np.concatenate([p[2] for p in parts]),
        "speaker": frame["speaker"].to_numpy(dtype=str),
        "split": frame["split"].to_numpy(dtype=str),
        "transcript": frame["transcript"].to_numpy(dtype=str),
    }
    os.makedirs(CACHE, exist_ok=True)
    np.savez(path, **clips)


def folds(clips: dict, seed: int, eval_fraction: float) -> dict[str, np.ndarray]:
    """{fold name: (N,) "train"|"eval"|"test"}: one LOSO fold per speaker, and the standard split
    (eval a seeded `speech.eval_fraction` of its train part, as the pipeline carves it)."""
    speakers = sorted(set(clips["speaker"]))
    out = {}
    for index, test in enumerate(speakers):
        held = speakers[(index + 1) % len(speakers)]
        out[test] = np.where(clips["speaker"] == test, "test", np.where(clips["speaker"] == held, "eval", "train"))
    splits = clips["split"].astype(object).copy()
    train = splits == "train"
    splits[train] = source.carve_eval(clips["transcript"][train], eval_fraction, seed)
    out[STANDARD] = splits.astype(str)
    return out


def standardized(clips: dict, splits: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """{split: {spectrogram, frames, characters}}, standardized per mel bin with the train split's
    real frames (as Transform does: population mean and variance)."""
    log_mel, frames = clips["log_mel"], clips["frames"]
    real = np.arange(log_mel.shape[1])[None] < frames[:, None]  # (N, F)
    train_frames = log_mel[(splits == "train")[:, None] & real]  # (frames, M)
    mean, std = train_frames.mean(0), np.maximum(train_frames.std(0), 1e-6)
    spectrogram = ((log_mel - mean) / std * real[..., None]).astype(np.float32)
    return {s: {"spectrogram": spectrogram[splits == s], "frames": frames[splits == s],
                "characters": clips["characters"][splits == s]} for s in ("train", "eval", "test")}  # fmt: skip


def mfcc_scores(data: dict, alphabet: str, seed: int) -> dict:
    """The challenger as the Trainer fits it: {split: {accuracy, cer}}."""
    from components.transcripts import transcript_scores
    from tasks.speech import baseline, module

    def xy(split):
        return baseline.clip_features(data[split]).numpy(), module.transcripts_of(data[split]["characters"], alphabet)

    classifier, _, _ = baseline.fit_baseline(xy("train"), xy("eval"), seed)
    return {split: transcript_scores(list(xy(split)[1]), [t.decode() for t in classifier(data[split]).numpy()])
            for split in ("eval", "test")}  # fmt: skip


def fold_scores(config, hp, data: dict, models: tuple, seed: int) -> dict:
    from tasks.speech import bench

    out = {}
    if "mfcc" in models:
        out["mfcc"] = mfcc_scores(data, config.speech.alphabet, seed)
    if "transformer" in models:
        out["transformer"] = bench.train_transformer(config, hp, data, seed, splits=("eval", "test"))["splits"]
    if "cnn" in models:
        out["cnn"] = bench.train_cnn(config, data, seed, splits=("eval", "test"))["splits"]
    return out


def summary(lever: str, model: str, by_fold: dict) -> dict:
    """One row: mean ± std over the LOSO folds (test and eval), per-fold test, and the standard split."""
    loso = {f: s for f, s in by_fold.items() if f != STANDARD}
    row = {"lever": lever, "model": model}
    decodings = [k for k in ("accuracy", "greedy_accuracy") if k in next(iter(by_fold.values()))["test"]]
    for key in decodings:
        name = "lexicon" if key == "accuracy" else "greedy"
        cer = "cer" if key == "accuracy" else "greedy_cer"
        test = [s["test"][key] for s in loso.values()]
        if test:
            row[f"{name}_acc"] = f"{np.mean(test):.3f}±{np.std(test):.3f}"
            row[f"{name}_cer"] = f"{np.mean([s['test'][cer] for s in loso.values()]):.3f}"
            row[f"{name}_eval"] = f"{np.mean([s['eval'][key] for s in loso.values()]):.3f}"
            row[f"{name}_folds"] = " ".join(f"{f[:3]}={s['test'][key]:.3f}" for f, s in loso.items())
        if STANDARD in by_fold:
            row[f"{name}_standard"] = f"{by_fold[STANDARD]['test'][key]:.3f}"
    return row


def run_lever(name: str, overrides: list[str], fold_names: list[str] | None, models: tuple, seed: int) -> list[dict]:
    """One lever's rows; `fold_names`: speakers and/or STANDARD (None: every speaker, then STANDARD)."""
    import keras_tuner

    config = load_config("speech", overrides=overrides)
    hp = keras_tuner.HyperParameters()  # the search space's defaults: the recipe the Tuner's first trial is
    clips = raw_clips(config)
    every = folds(clips, seed, config.speech.eval_fraction)
    results: dict[str, dict] = {m: {} for m in models}
    for fold in fold_names or [*sorted(set(clips["speaker"])), STANDARD]:
        started = time.perf_counter()
        scores = fold_scores(config, hp, standardized(clips, every[fold]), models, seed)
        for model, figures in scores.items():
            results[model][fold] = figures
        print(f"[{name}] fold {fold} ({time.perf_counter() - started:.0f} s): {json.dumps(scores)}", flush=True)
    return [summary(name, model, by_fold) for model, by_fold in results.items()]


def parse_lever(text: str) -> tuple[str, list[str]]:
    """"name:key=value;key=value" -> (name, overrides); "base" -> ("base", [])."""
    name, _, rest = text.partition(":")
    return name, [item for item in rest.split(";") if item]


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lever", action="append", default=None, help='"name:key=value;key=value" (repeatable)')
    parser.add_argument("--set", action="append", default=[], help="overrides every lever shares, e.g. trainer.epochs=10")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--folds", default=None, help="comma-separated speakers and/or 'standard' (default: all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=None, help="append the rows as JSON lines here")
    args = parser.parse_args(argv)
    models = tuple(m for m in args.models.split(",") if m)
    rows = []
    for text in args.lever or ["base"]:
        name, overrides = parse_lever(text)
        names = args.folds.split(",") if args.folds else None
        for row in run_lever(name, [*args.set, *overrides], names, models, args.seed):
            print(json.dumps(row), flush=True)
            rows.append(row)
            if args.out:
                with open(args.out, "a") as handle:
                    handle.write(json.dumps(row) + "\n")
    return rows


def run(args) -> list[dict]:
    """bench/run.py's entry: every model on the five folds with the shipped config."""
    del args
    return main([])


if __name__ == "__main__":
    main()
