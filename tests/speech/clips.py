"""Generated tone clips for speech tests: each character of a transcript is a tone burst.

"a" is a low tone and "b" a high one, with silence between, so a transcript says which tone
came first. Per-clip MFCC statistics (the challenger) are the same for "ab" and "ba", and
only a model that hears the order can tell them apart.
"""
from __future__ import annotations

import csv
import pathlib

import numpy as np

from tasks.speech.source import wav_bytes

RATE = 8000
TONES = {"a": 500.0, "b": 1500.0}  # Hz
WORDS = ("ab", "ba")
UNSEEN_WORD = "aba"  # said by no train clip (write_folder's `unseen`)


def tone_clip(word: str, rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    """(N,) float samples: each letter a 0.15-0.2 s tone burst, 0.05-0.1 s silences, light noise."""
    parts = [np.zeros(int(rng.uniform(0.02, 0.1) * rate))]
    for letter in word:
        length = int(rng.uniform(0.15, 0.2) * rate)
        t = np.arange(length) / rate
        parts.append(0.4 * np.sin(2 * np.pi * TONES[letter] * t) * np.hanning(length))
        parts.append(np.zeros(int(rng.uniform(0.05, 0.1) * rate)))
    clip = np.concatenate(parts)
    return clip + rng.normal(0, 0.01, clip.shape)


def write_folder(folder: pathlib.Path, per_word: int, seed: int = 0, unseen: int = 0) -> pathlib.Path:
    """`folder` with per_word clips of each word as WAV files and a transcripts.csv (speakers s0..s3).

    With `unseen` > 0, also that many clips of UNSEEN_WORD, and a split column: every fifth clip of
    each word and every unseen clip in test, the rest in train, so that the test split holds
    transcripts that no train clip says (outside a lexicon of the train transcripts)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for word in WORDS:
        for index in range(per_word):
            name = f"{word}_{index:03d}.wav"
            (folder / name).write_bytes(wav_bytes(tone_clip(word, rng), RATE))
            rows.append({"file": name, "transcript": word.upper() if index == 0 else word, "speaker": f"s{index % 4}",
                         "split": "test" if index % 5 == 0 else "train"})  # fmt: skip
    for index in range(unseen):
        name = f"{UNSEEN_WORD}_{index:03d}.wav"
        (folder / name).write_bytes(wav_bytes(tone_clip(UNSEEN_WORD, rng), RATE))
        rows.append({"file": name, "transcript": UNSEEN_WORD, "speaker": f"s{index % 4}", "split": "test"})
    columns = ["file", "transcript", "speaker", *(["split"] if unseen else [])]
    with open(folder / "transcripts.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return folder
