"""Read a user's CSV, or say plainly what is wrong with it and where.

pandas' own errors name neither the file nor the place ("No columns to parse from
file", "'utf-8' codec can't decode byte 0xe9 in position 1234"). Both sources read
through `read_csv`, so every task reports an empty file, a header without rows and a
file that is not UTF-8 the same way.
"""
from __future__ import annotations

import pandas as pd
import tensorflow as tf


class CsvError(ValueError):
    """The input file cannot be read as the CSV the config describes."""


def _first_undecodable(path: str) -> str:
    """Where the file stops being UTF-8: "byte 0xe9 on line 3"."""
    with tf.io.gfile.GFile(path, "rb") as handle:
        data = handle.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return f"byte 0x{data[error.start]:02x} on line {line}"
    return "a byte"


def read_csv(path: str, **kwargs) -> pd.DataFrame:
    """`pd.read_csv(path, **kwargs)` for a local path or a gs:// URI, UTF-8, at least one data row."""
    try:
        with tf.io.gfile.GFile(path, "r") as handle:  # text mode: GFile decodes UTF-8
            frame = pd.read_csv(handle, **kwargs)
    except pd.errors.EmptyDataError:
        raise CsvError(f"{path} is empty: expected a header row naming the columns, then one row per record") from None
    except UnicodeDecodeError:
        raise CsvError(
            f"{path} is not UTF-8 text: {_first_undecodable(path)} cannot be decoded. Save the file as UTF-8."
        ) from None
    except pd.errors.ParserError as error:
        raise CsvError(f"{path} is not a well-formed CSV: {error}") from None
    if frame.empty:
        raise CsvError(f"{path} has a header ({list(frame.columns)}) but no data rows")
    return frame
