"""The `series:` section of a timeseries config: its dataclass, read by `data.config.PipelineConfig`."""
from __future__ import annotations

import dataclasses

from data.config import config_section


@config_section("series", task="timeseries")
@dataclasses.dataclass
class SeriesConfig:
    """How a CSV becomes forecasting windows (time-series task)."""

    time_column: str = "time"  # parsed as timestamps; rows must be sorted by it
    input_columns: list[str] = dataclasses.field(default_factory=lambda: ["glucose"])  # model inputs
    target_columns: list[str] = dataclasses.field(default_factory=lambda: ["glucose"])  # forecast; must be inputs too
    lookback: int = 48  # time steps the model sees
    horizon: int = 12  # time steps it forecasts
    stride: int = 9  # steps between consecutive window starts
    season: int = 48  # period of the seasonal-naive baseline, in steps
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.7, 0.15, 0.15])
    split_dates: list[str] | None = None  # [eval_start, test_start(, test_end)]; when set, replaces split_fractions
    split_context: bool = False  # eval/test lookbacks may reach into the rows before the split (targets never do)
    split_column: str | None = None  # a column of train/eval/test per row (in that time order): replaces the above
    frequency: str | None = None  # pandas offset ("1h"); None: the most common time difference

    def validate(self) -> None:
        missing = [c for c in self.target_columns if c not in self.input_columns]
        if missing:
            raise ValueError(
                f"series.target_columns {missing} must also be in series.input_columns "
                f"{self.input_columns}: the model forecasts a series from its own history."
            )
        if min(self.lookback, self.horizon, self.stride, self.season) < 1:
            raise ValueError("series.lookback, horizon, stride and season must all be >= 1")
        if self.season > self.lookback:
            raise ValueError(
                f"series.season ({self.season}) must be <= series.lookback ({self.lookback}): "
                "the seasonal-naive baseline reads the last season of each window."
            )
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"series.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if self.split_dates is not None and (
            len(self.split_dates) not in (2, 3) or sorted(map(str, self.split_dates)) != list(map(str, self.split_dates))
        ):
            raise ValueError(
                f"series.split_dates {self.split_dates} must be [eval_start, test_start] or "
                "[eval_start, test_start, test_end], in time order"
            )
