"""Bigger copies of the real data sets, for measuring cost against data size (bench/scale.py).

Time series: ETTh2 (../shared/data, 17,420 hourly rows x 7 columns) tiled `factor` times end
to end, timestamps continued hourly, so that the series is longer and its windows grow in
proportion. Copy 0 is the file itself; later copies add Gaussian noise of `NOISE` x each
column's standard deviation, clipped to the column's observed range (the curated schema's
value domains hold), so no window is an exact repeat while the per-column mean, standard
deviation and daily shape stay those of ETTh2.

Text: the review snippets `factor` times; copy 0 is the file itself, each later copy of a
snippet drops one word at random and swaps two neighbouring words. The label stays, and so
do the words that carry it: the class signal is kept, while the texts differ, so the
pipeline's duplicate grouping (tasks/text/source.py) does not fold the copies together.
Copies of one snippet can land in different splits, which flatters test accuracy; a cost
benchmark does not read it.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from data.config import REPO_ROOT

ETTH2 = REPO_ROOT.parent / "shared" / "data" / "ETTh2.csv"  # CC BY-ND 4.0; read, not shipped
ETTH2_TIME = "date"
NOISE = 0.05  # of each column's standard deviation


def tiled_series(frame: pd.DataFrame, factor: int, time_column: str, seed: int = 0) -> pd.DataFrame:
    """`frame` (a regular series) `factor` times end to end, later copies with bounded noise."""
    times = pd.to_datetime(frame[time_column])
    step = times.iloc[1] - times.iloc[0]
    span = times.iloc[-1] - times.iloc[0] + step
    values = frame.drop(columns=[time_column])
    low, high, std = values.min(), values.max(), values.std()
    rng = np.random.default_rng(seed)
    copies = []
    for k in range(factor):
        copy = values.copy()
        if k:
            noise = rng.standard_normal(values.shape) * (NOISE * std.to_numpy())  # (N, C)
            copy = (values + noise).clip(low, high, axis=1)
        copy.insert(0, time_column, (times + k * span).dt.strftime("%Y-%m-%d %H:%M:%S"))
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


def perturbed(text: str, rng: np.random.Generator) -> str:
    """`text` with one word dropped and two neighbours swapped (texts of one word as they are)."""
    words = text.split()
    if len(words) < 2:
        return text
    del words[rng.integers(len(words))]
    if len(words) >= 2:
        i = rng.integers(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def perturbed_texts(frame: pd.DataFrame, factor: int, text_column: str, seed: int = 0) -> pd.DataFrame:
    """`frame`'s rows `factor` times, later copies' texts perturbed, labels kept."""
    rng = np.random.default_rng(seed)
    copies = [frame]
    for _ in range(1, factor):
        copy = frame.copy()
        copy[text_column] = [perturbed(str(t), rng) for t in frame[text_column]]
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


def write_series(root: pathlib.Path, factor: int) -> pathlib.Path:
    path = root / f"etth2_x{factor}.csv"
    tiled_series(pd.read_csv(ETTH2), factor, ETTH2_TIME).to_csv(path, index=False)
    return path


def write_texts(root: pathlib.Path, factor: int) -> pathlib.Path:
    from tasks.text import source  # the packaged review snippets, as `make run-local` prepares them

    frame = pd.read_csv(source.prepare_default_csv(str(root / "text_source")), dtype=str, keep_default_na=False)
    path = root / f"text_x{factor}.csv"
    perturbed_texts(frame, factor, "text").to_csv(path, index=False)
    return path
