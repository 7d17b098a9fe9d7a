"""`make simulate TASK=text`: labelled rows arriving daily (pipeline/simulate.py runs the schedule).

- The texts have no time, so a seeded permutation orders them: the last DAYS x DAY_ROWS rows
  arrive one day at a time, the rest is the history (span 0).
- Drift (`DRIFT_DAY=k`): from day k on, only the first class's rows arrive (the others stop
  being labelled): a shift of the class prior, which no schema check sees.
- A corrupt day (`BREAK_DAY=k`): every label of day k is "unlabelled", outside the schema's
  label domain: validation stops that run. The next day the corrected span arrives as a new
  version of span k.
- Requests and live error: the model served after day k classifies day k+1's texts (the day's
  requests, which the simulation logs and monitors; a class-prior shift is invisible to the
  monitor, whose schema compares no free text); its error rate and that of the majority class
  of the rows delivered so far fill day k's row when day k+1's span arrives.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from components import examples_io
from components.classification import predictions
from components.export import EXAMPLES_INPUT
from data import csv_input
from data.config import PipelineConfig
from tasks.text import features

SPAN_FILE = "texts-{SPAN}-v{VERSION}.csv"
DAY_ROWS = 250  # labelled rows a day
CORRUPT_LABEL = "unlabelled"
DRIFT_NOTE = "only the first class's rows arrive"
ERROR_KEYS = ("served_error", "majority_error")


def read(config: PipelineConfig, source: str) -> pd.DataFrame:
    return csv_input.read_csv(source, dtype=str, keep_default_na=False)


def cut_days(config: PipelineConfig, frame: pd.DataFrame, days: int) -> list[pd.DataFrame]:
    """[history, day 1, ..., day `days`] of a seeded permutation of the rows."""
    if days * DAY_ROWS > len(frame) // 2:
        raise ValueError(f"{days} days of {DAY_ROWS} rows need more than half of the {len(frame)} rows")
    shuffled = frame.iloc[np.random.RandomState(config.seed).permutation(len(frame))].reset_index(drop=True)
    history = len(frame) - days * DAY_ROWS
    return [shuffled.iloc[:history]] + [shuffled.iloc[history + i * DAY_ROWS : history + (i + 1) * DAY_ROWS] for i in range(days)]


def drifted(config: PipelineConfig, day: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    labels = day[config.text.label_column]
    return day[labels == sorted(labels.unique())[0]]


def corrupted(config: PipelineConfig, day: pd.DataFrame) -> pd.DataFrame:
    return day.assign(**{config.text.label_column: CORRUPT_LABEL})


def write(config: PipelineConfig, frame: pd.DataFrame, path: str) -> None:
    frame.to_csv(path, index=False)


def answer(config: PipelineConfig, model_dir: str, before: pd.DataFrame, day: pd.DataFrame) -> tuple[dict, dict, dict]:
    """The day's texts classified by the model in `model_dir`: (request, outputs, errors), the
    request as a client sends it to `serving_default` (`examples`, one per text), the outputs as
    arrays, and {served_error, majority_error} on `day`'s labels (the majority class is `before`'s)."""
    text = config.text
    texts = day[text.text_column].astype(str).tolist()
    request = {EXAMPLES_INPUT: tf.constant([examples_io.to_tf_example({features.TEXT_KEY: t}).SerializeToString()
                                            for t in texts])}  # (N,) serialized tf.Examples; fmt: skip
    answered = tf.saved_model.load(model_dir).signatures["serving_default"](**request)
    predicted = np.array([label for label, _ in predictions(answered)])
    truth = day[text.label_column].to_numpy()
    majority = before[text.label_column].value_counts().idxmax()
    errors = {"served_error": float(np.mean(predicted != truth)), "majority_error": float(np.mean(truth != majority))}
    return request, {name: value.numpy() for name, value in answered.items()}, errors
