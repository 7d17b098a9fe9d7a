"""Spans of one series: consecutive chunks joined in order, checked for continuity at each boundary.

A series that arrives day by day (`glucose-{SPAN}.csv`) is one series: windows are built across
span boundaries, so the boundary must be exact. Between span A and the next span B:
- B starting at or before A's last timestamp is an overlap (or, when B ends before A starts,
  spans out of order);
- B starting more than one step (the series frequency) after A's end is a gap: readings are
  missing between the spans. A gap inside a span is the writer's to report, as for any CSV.
Each is an error naming both spans and the timestamps. `spans.split: spans` splits by span:
train on the older spans, eval on the next `eval_spans`, test on the newest `test_spans`.
"""
from __future__ import annotations

import dataclasses
import os

import pandas as pd

from data.config import PipelineConfig
from data.spans import Span, SpanError
from tasks.timeseries import windowing


def boundary_problem(a: Span, a_times: pd.Series, b: Span, b_times: pd.Series, step: pd.Timedelta) -> str | None:
    """What is wrong where span `b` follows span `a`, or None."""
    a_first, a_last, b_first, b_last = a_times.iloc[0], a_times.iloc[-1], b_times.iloc[0], b_times.iloc[-1]
    if b_last < a_first:
        return f"{b.name} ({b_first} to {b_last}) comes before {a.name} ({a_first} to {a_last}): spans out of order"
    if b_first <= a_last:
        return f"{b.name} starts at {b_first}, at or before the end of {a.name} ({a_last}): the spans overlap"
    if b_first - a_last > step:
        missing = int((b_first - a_last) / step) - 1
        return (
            f"{a.name} ends at {a_last} and {b.name} starts at {b_first}: a gap of {b_first - a_last} "
            f"({missing} missing reading(s) at the step {step}) between the spans"
        )
    return None


def split_dates(chosen: list[Span], firsts: list[pd.Timestamp], config: PipelineConfig) -> list[str]:
    """[eval_start, test_start] at span boundaries: the first timestamps of the eval and test spans."""
    window = config.spans
    needed = window.eval_spans + window.test_spans + 1
    if len(chosen) < needed:
        raise SpanError(
            f"spans.split is 'spans' with {window.eval_spans} eval and {window.test_spans} test span(s): it needs at "
            f"least {needed} spans, and {len(chosen)} were read ({[s.name for s in chosen]})"
        )
    return [str(firsts[-(window.eval_spans + window.test_spans)]), str(firsts[-window.test_spans])]


def join_spans(config: PipelineConfig, chosen: list[Span], directory: str) -> tuple[str, PipelineConfig]:
    """(one CSV of the spans in order, the config to window it with); raises SpanError at a bad boundary."""
    series = config.series
    frames = []
    for span in chosen:
        try:
            frames.append(windowing.read_series(span.path, series.time_column))  # each span sorted, no duplicates
        except windowing.SeriesError as error:
            raise windowing.SeriesError(f"{span.name}: {error}") from None
    joined = pd.concat(frames, ignore_index=True)
    step = windowing.infer_frequency(joined[series.time_column], series.frequency)
    times = [frame[series.time_column] for frame in frames]
    for a, a_times, b, b_times in zip(chosen, times, chosen[1:], times[1:], strict=False):
        problem = boundary_problem(a, a_times, b, b_times, step)
        if problem:
            raise SpanError(problem)
    if config.spans.split == "spans":
        dates = split_dates(chosen, [t.iloc[0] for t in times], config)
        config = dataclasses.replace(config, sections={**config.sections, "series": dataclasses.replace(series, split_dates=dates)})
    path = os.path.join(directory, f"spans-{chosen[0].number}-{chosen[-1].number}.csv")
    joined.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
    return path, config
