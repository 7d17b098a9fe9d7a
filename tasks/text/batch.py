"""Batch predictions of texts (`make predict-batch TASK=text DATA=texts.csv`): one row per CSV row.

The CSV needs the config's text column (`text.text_column`); a label column is not read. A row
is keyed by the CSV's `key` or `id` column when it has one, else by its data row number (1 for
the first row under the header). A row with no text goes to the errors file. Each text becomes
the raw tf.Example a serving client sends (predict.py's `classify`): the `text` feature only.
"""
from __future__ import annotations

from collections.abc import Iterator

from components import examples_io
from components.batch_inference import to_python
from data import csv_input
from data.config import PipelineConfig
from tasks.text import features

KEY_COLUMNS = ("key", "id")  # a CSV column that names its rows, in this order of preference


def inputs(config: PipelineConfig, data: str, last: bool = False) -> Iterator[tuple]:
    """(key, raw tf.Example bytes) per row, or (key, None, why not); `last`: the last row only."""
    column = config.text.text_column
    frame = csv_input.read_csv(data, dtype=str, keep_default_na=False)
    if column not in frame.columns:
        raise ValueError(f"{data} has no column '{column}' (columns: {list(frame.columns)}): set text.text_column")
    named = next((c for c in KEY_COLUMNS if c in frame.columns), None)
    keys = frame[named].tolist() if named else [str(row) for row in range(1, len(frame) + 1)]
    rows = range(len(frame) - 1, len(frame)) if last else range(len(frame))
    texts = frame[column].tolist()
    for row in rows:
        text = (texts[row] or "").strip()
        if not text:
            yield keys[row], None, f"no text in column '{column}'"
            continue
        yield keys[row], examples_io.to_tf_example({features.TEXT_KEY: text}).SerializeToString()


def columns(config: PipelineConfig, outputs: dict) -> dict:
    """The predicted class, and each class's probability (CSV: `probability_<class>`)."""
    classes = to_python(outputs[features.ALL_CLASSES_KEY])
    probabilities = to_python(outputs[features.PROBABILITIES_KEY])
    label = to_python(outputs[features.PREDICTED_LABEL_KEY])
    return {
        "label": label[0] if isinstance(label, list) else label,
        "probability": dict(zip(classes, probabilities, strict=True)),
    }
