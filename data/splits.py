"""The split names every task uses, and a data set's own split column, checked."""
from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "eval", "test")


class SplitColumnError(ValueError):
    """A split column holds something other than train, eval or test."""


def checked_split_column(values: pd.Series, column: str) -> np.ndarray:
    """The split column's values (trimmed, lower case), each train, eval or test; otherwise
    an error naming the first bad data row (1 = the row after the header)."""
    values = values.astype(str).str.strip().str.lower()
    bad = ~values.isin(SPLITS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SplitColumnError(
            f"split column '{column}': data row {row + 1} holds {values.iloc[row]!r}; every row must be "
            f"one of {list(SPLITS)} ({int(bad.sum())} row(s) are not)"
        )
    return values.to_numpy(dtype=object)
