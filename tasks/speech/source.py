"""Where recordings and their transcripts come from, and how they are split.

A user's data is a folder of WAV files (any sample rate, mono or stereo; `DATA=folder`) with
a CSV `speech.transcripts` (default `transcripts.csv`) of `file,transcript` and, optionally,
`speaker` and `split` (train/eval/test, the data set's own split). Without that CSV, files
named as in the Free Spoken Digit Dataset, `{digit}_{speaker}_{index}.wav`, carry their
transcript (the digit's English word), their speaker and that data set's own split (index
0-4 of each speaker and digit is test). The default is those recordings, vendored under
`tasks/speech/fsdd/` with their CC BY-SA 4.0 notice.

Nothing is dropped here: a WAV that does not decode, a clip that is empty or too long, an
empty transcript or one with characters outside `speech.alphabet` reaches the examples,
and the curated schema stops the run at the AnomalyGate, naming the file.
"""
from __future__ import annotations

import io
import pathlib
import re

import numpy as np
import pandas as pd

from data import sources
from data.folders import content_groups, relative_files
from data.splits import checked_split_column, split_groups
from tasks.speech.config import SpeechConfig

DEFAULT_FOLDER = pathlib.Path(__file__).resolve().parent / "fsdd"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$", re.IGNORECASE)
FSDD_TEST_INDICES = 5  # the free-spoken-digit split: index 0-4 of each speaker and digit is test
CSV_COLUMNS = ("file", "transcript")  # required; `speaker` and `split` are optional
SPEAKER_DISJOINT = "speaker-disjoint"  # how a speaker split is named (the ExampleGen adds who is where)
SPEAKER_SPLIT_MIN = 3  # speakers from which `split_by: auto` splits by speaker (one each for train, eval, test)


def resolve_data(config) -> str:
    """The local audio folder (DATA), or the vendored recordings (they ship in the repository)."""
    return sources.resolve(config.data, str(config.task_dir / "data"), lambda _: str(DEFAULT_FOLDER), "a folder of WAV files", folder=True)


def normalize_transcript(text) -> str:
    """Lower case, single spaces, no leading or trailing space: what the model learns to write."""
    return " ".join(str(text).lower().split()) if isinstance(text, str) else ""


def transcript_status(transcript: str, alphabet: str) -> str:
    """TRANSCRIPT_OK, "empty", or the characters of `transcript` outside `alphabet`."""
    if not transcript:
        return "empty"
    outside = sorted(set(transcript) - set(alphabet))
    return "ok" if not outside else f"characters outside speech.alphabet: {''.join(outside)!r}"


def read_transcripts(folder: str, speech: SpeechConfig, wavs: list[str]) -> pd.DataFrame:
    """The folder's transcripts CSV as rows of file, transcript, speaker[, split]."""
    import tensorflow as tf

    path = f"{folder.rstrip('/')}/{speech.transcripts}"
    with tf.io.gfile.GFile(path) as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: needs columns {list(CSV_COLUMNS)} (optional: speaker, split); missing {missing}")
    absent = sorted(set(frame["file"]) - set(wavs))
    if absent:
        raise ValueError(f"{path}: {len(absent)} listed file(s) are not WAV files in the folder, e.g. '{absent[0]}'")
    rows = pd.DataFrame({
        "file": frame["file"],
        "transcript": frame["transcript"].map(normalize_transcript),
        "speaker": frame["speaker"].astype(str) if "speaker" in frame.columns else "",
    })  # fmt: skip
    if "split" in frame.columns:
        rows["split"] = checked_split_column(frame["split"], "split")
    return rows


def fsdd_rows(folder: str, wavs: list[str]) -> pd.DataFrame:
    """Free-spoken-digit names -> file, transcript, speaker, split (the data set's own)."""
    rows, strangers = [], []
    for file in wavs:
        match = FSDD_NAME.match(pathlib.PurePosixPath(file).name)
        if match is None:
            strangers.append(file)
            continue
        digit, speaker, index = match.groups()
        split = "test" if int(index) < FSDD_TEST_INDICES else "train"
        rows.append({"file": file, "transcript": DIGIT_WORDS[int(digit)], "speaker": speaker, "split": split})
    if strangers:
        raise ValueError(
            f"{folder}: no transcripts CSV, and {len(strangers)} WAV file(s) are not named "
            f"{{digit}}_{{speaker}}_{{index}}.wav, e.g. '{strangers[0]}'. Add a CSV of file,transcript "
            "(speech.transcripts) to the folder."
        )
    return pd.DataFrame(rows)


def list_clips(folder: str, speech: SpeechConfig) -> pd.DataFrame:
    """One row per clip: file (path under `folder`), transcript, speaker and, where the data
    has its own split, split. Sorted by file, so the listing is the same on every machine."""
    import tensorflow as tf

    wavs = [f for f in relative_files(folder) if f.lower().endswith(".wav")]
    if not wavs:
        raise ValueError(f"{folder} holds no .wav files")
    if tf.io.gfile.exists(f"{folder.rstrip('/')}/{speech.transcripts}"):
        frame = read_transcripts(folder, speech, wavs)
    else:
        frame = fsdd_rows(folder, wavs)
    return frame.sort_values("file").reset_index(drop=True)


def carve_eval(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Split rows into train and a seeded, stratified `fraction` of eval."""
    return split_groups(np.arange(len(labels)), labels, [1.0 - fraction, fraction, 0.0], True, seed)


def speaker_splits(frame: pd.DataFrame, speech: SpeechConfig, seed: int) -> np.ndarray:
    """Test speakers (a seeded `split_fractions[2]` share of them, at least one) never appear in
    train or eval, and eval speakers (a share of their own, at least one) never in train, so that
    every choice made on eval (the Tuner's trial, the kept epoch, the gate) is made on voices the
    model has not heard. With two speakers only, eval is a seeded share of the train speaker's clips."""
    speakers = sorted(set(frame["speaker"]) - {""})
    if len(speakers) < 2 or (frame["speaker"] == "").any():
        raise ValueError(
            f"speech.split_by=speaker needs a speaker for every clip and at least two speakers; found {speakers}"
            + (" and clips without one" if (frame["speaker"] == "").any() else "")
        )
    order = list(np.random.RandomState(seed).permutation(speakers))
    _, eval_share, test_share = speech.split_fractions
    n_test = max(1, round(test_share * len(order)))
    n_eval = max(1, round(eval_share * len(order)))
    n_eval = n_eval if len(order) - n_test - n_eval >= 1 else 0
    test, held = set(order[:n_test]), set(order[n_test : n_test + n_eval])
    splits = np.where(frame["speaker"].isin(test), "test", np.where(frame["speaker"].isin(held), "eval", "train")).astype(object)
    if not held:
        rest = splits != "test"
        splits[rest] = carve_eval(frame["transcript"].to_numpy()[rest], speech.eval_fraction, seed)
    return splits


def split_method(frame: pd.DataFrame, speech: SpeechConfig) -> str:
    """`speech.split_by`, with "auto" resolved: "speaker" when every clip names one of at least
    SPEAKER_SPLIT_MIN speakers (train, eval and test each get voices of their own), else "dataset"."""
    if speech.split_by != "auto":
        return speech.split_by
    speakers = set(frame["speaker"])
    return "speaker" if "" not in speakers and len(speakers) >= SPEAKER_SPLIT_MIN else "dataset"


def split_rows(folder: str, frame: pd.DataFrame, speech: SpeechConfig, seed: int) -> tuple[np.ndarray, int, str]:
    """(a split name per row, byte-identical duplicate files, how the split was made)."""
    groups = content_groups(folder, frame["file"])
    duplicates = len(groups) - len(np.unique(groups))
    method = split_method(frame, speech)
    if method == "speaker":
        return speaker_splits(frame, speech, seed), duplicates, SPEAKER_DISJOINT
    if method == "dataset" and "split" in frame.columns:
        splits = frame["split"].to_numpy(dtype=object).copy()
        how = "the data set's own split"
        if not (splits == "eval").any():
            train = splits == "train"
            splits[train] = carve_eval(frame["transcript"].to_numpy()[train], speech.eval_fraction, seed)
            how += f", eval a seeded {speech.eval_fraction:.0%} of its train part"
        return splits, duplicates, how
    labels = frame["transcript"].to_numpy()
    return split_groups(groups, labels, speech.split_fractions, True, seed), duplicates, "a seeded split"


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """(N,) or (N, C) float samples in [-1, 1] -> 16-bit PCM WAV file bytes (tests, predict)."""
    import wave

    data = np.asarray(samples, np.float64)
    data = data[:, None] if data.ndim == 1 else data
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(data.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(int(sample_rate))
        handle.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()

