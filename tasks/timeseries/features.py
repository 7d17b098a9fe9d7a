"""The timeseries task's feature keys, and the shared ones (data/features.py) it reads.

Column names come from the user's config, so keys are functions of them rather than constants."""
from data.features import *  # noqa: F403  (the shared keys: every key a task module reads is here)

TARGET_SUFFIX = "_target"  # raw: the `horizon` future values of a target column
MEAN_SUFFIX = "_mean"  # train-split mean of a column, as a transform output
STD_SUFFIX = "_std"  # train-split standard deviation of a column
FORECAST_KEY = "forecast"  # serving output: (B, horizon, num_targets) in data units


def window_key(column: str) -> str:
    """Raw feature holding the `lookback` past values of `column` (it keeps the user's name)."""
    return column


def target_key(column: str) -> str:
    """Raw feature holding the `horizon` future values of `column` (the label)."""
    return f"{column}{TARGET_SUFFIX}"


def mean_key(column: str) -> str:
    return f"{column}{MEAN_SUFFIX}"


def std_key(column: str) -> str:
    return f"{column}{STD_SUFFIX}"


def forecast_output_key(column: str) -> str:
    """Serving output of one target's forecast, (B, horizon), in data units."""
    return f"{FORECAST_KEY}_{column}"


def challenger_output_key(challenger: str, column: str) -> str:
    """Evaluation-signature output: a challenger's forecast of one target, (B, horizon), in data units."""
    return f"{challenger}_{column}"
