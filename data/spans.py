"""Spans: data that keeps arriving, in parts named the way TFX's ExampleGens name them.

`DATA` (or a profile's data URI) may be a span pattern: `{SPAN}` (optionally `{SPAN:4}`, zero
padded), or a date `{YYYY}{MM}{DD}` (span = days since 1970-01-01), in a file or folder name, with
an optional `{VERSION}`: `new/readings-{SPAN}.csv`, `gs://bucket/texts/{YYYY}-{MM}-{DD}/v{VERSION}.csv`.
Matching, span numbers and versions are TFX's own (`tfx.components.example_gen.utils`): of each
span the latest version is read, as TFX's ExampleGen reads it.

Where this differs from TFX: a TFX ExampleGen ingests one span per run, and a rolling window is
picked downstream (the `rolling_range` resolver). Here the ExampleGen reads the window of spans
(`spans:` in the config, `SpansConfig`) into one Examples artifact, because a series' windows
cross span boundaries and continuity between spans must be checked where the spans are joined
(a task's writer module may join them itself: `join_spans`). The artifact records the spans it read (`span`, `version`, and the
custom property `spans`), so ML Metadata says which data a model saw.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import re

from tfx.components.example_gen import utils as tfx_spans
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2

from data import csv_input
from data.config import SpansConfig

# The custom properties of the ExampleGen's Examples artifact (ML Metadata) that say what was read.
SPANS_PROPERTY = "spans"  # JSON list of the span numbers read, oldest first
SPAN_PATTERN_PROPERTY = "span_pattern"


class SpanError(ValueError):
    """The span pattern matches nothing usable, or the spans cannot be joined."""


@dataclasses.dataclass(frozen=True)
class Span:
    number: int  # TFX's span number ({SPAN}'s value, or days since 1970-01-01 for a date)
    version: int | None  # {VERSION}'s value (the latest of the span), None without {VERSION}
    path: str  # the file or folder

    @property
    def name(self) -> str:
        """How messages name it: "span 3 (glucose-3.csv)"."""
        return f"span {self.number} ({os.path.basename(self.path.rstrip('/'))})"

    def as_dict(self) -> dict:
        return {"span": self.number, "version": self.version, "path": self.path}


def is_pattern(path: str | None) -> bool:
    """Whether `path` names spans ({SPAN}, {SPAN:n} or {YYYY}{MM}{DD}) rather than one file or folder."""
    return bool(path) and (re.search(tfx_spans.SPAN_FULL_REGEX, path) is not None or tfx_spans.YEAR_SPEC in path)


def is_date_pattern(pattern: str) -> bool:
    return tfx_spans.YEAR_SPEC in pattern


def find(pattern: str) -> list[Span]:
    """Every span the pattern matches, with its latest version, oldest span first.
    An invalid pattern (a {VERSION} without a span, a spec twice) is a SpanError saying so."""
    split = example_gen_pb2.Input.Split(name="data", pattern=pattern)
    try:
        is_span, is_date, is_version = tfx_spans.verify_split_pattern_specs(split)
        glob, regex = tfx_spans._create_matching_glob_and_regex(  # TFX's matching, as its ExampleGen's driver does
            uri="", split=split, is_match_span=is_span, is_match_date=is_date, is_match_version=is_version, range_config=None
        )  # fmt: skip
    except ValueError as error:
        raise SpanError(f"span pattern {pattern!r}: {error}") from None
    latest: dict[int, Span] = {}
    for path in fileio.glob(glob):
        try:
            _, number, _, version = tfx_spans._find_matched_span_version_from_path(path, regex, is_span, is_date, is_version)
        except ValueError as error:
            raise SpanError(f"{path} matches span pattern {pattern!r} but {error}") from None
        known = latest.get(number)
        if known is None or (version is not None and version > known.version):
            latest[number] = Span(number, version, path)
    return [latest[n] for n in sorted(latest)]


def path_of(pattern: str, number: int, version: int | None = None) -> str:
    """The file or folder name of span `number` (and `version`) of a `{SPAN}`/`{VERSION}` pattern,
    as a producer of spans writes it (the simulated schedule, the warm-start bench)."""
    return pattern.replace(tfx_spans.SPAN_SPEC, str(number)).replace(tfx_spans.VERSION_SPEC, str(version))


def until_span(config: SpansConfig, pattern: str) -> int | None:
    """`spans.until` as a span number: a date (YYYY-MM-DD) for a date pattern, a number otherwise."""
    if config.until is None:
        return None
    if is_date_pattern(pattern):
        try:
            day = datetime.date.fromisoformat(str(config.until))
        except ValueError:
            raise SpanError(f"spans.until {config.until!r} must be a date (YYYY-MM-DD) for the date pattern {pattern!r}") from None
        return tfx_spans.date_to_span_number(day.year, day.month, day.day)
    try:
        return int(config.until)
    except ValueError:
        raise SpanError(f"spans.until {config.until!r} must be a span number for the pattern {pattern!r}") from None


def select(pattern: str, config: SpansConfig) -> list[Span]:
    """The spans a run reads: those up to `spans.until`, then the last `spans.window` of them
    (all when None; 1 is the latest span alone). None left is a SpanError naming what was found."""
    found = find(pattern)
    if not found:
        raise SpanError(f"no file or folder matches the span pattern {pattern!r}")
    limit = until_span(config, pattern)
    chosen = [s for s in found if limit is None or s.number <= limit]
    if not chosen:
        raise SpanError(f"no span of {pattern!r} is at or before spans.until {config.until!r}: spans found {numbers(found)}")
    return chosen[-config.window :] if config.window else chosen


def describe(source: str, config: SpansConfig) -> str:
    """Which data a run picks up, in words (what `make schedule` records for every scheduled run)."""
    if not is_pattern(source):
        return f"all of {source}, read anew at each run"
    window = "every span" if config.window is None else ("the newest span" if config.window == 1 else f"the newest {config.window} spans")
    until = f" up to span {config.until}" if config.until is not None else ""
    return (f"{window}{until} of {source} found when the run starts (of each span its newest {{VERSION}}); "
            "a run with no new span reads the same spans again")


def numbers(spans: list[Span] | list[int]) -> str:
    """"3..30 (28 spans)" or "3, 5", of spans or their numbers."""
    values = [s if isinstance(s, int) else s.number for s in spans]
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]} ({len(values)} spans)"
    return ", ".join(map(str, values))


def join_rows(spans: list[Span], path: str) -> str:
    """The spans' CSV rows in span order, as one CSV at `path`. Every span must have the first's
    header: a changed column is an error naming both spans."""
    import pandas as pd

    frames = [csv_input.read_csv(s.path, dtype=str, keep_default_na=False) for s in spans]
    for span, frame in zip(spans[1:], frames[1:], strict=True):
        if list(frame.columns) != list(frames[0].columns):
            raise SpanError(
                f"{span.name} has columns {list(frame.columns)}, but {spans[0].name} has {list(frames[0].columns)}: "
                "every span of a pattern must have the same header"
            )
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


def join_folders(spans: list[Span], path: str) -> str:
    """One local folder at `path` holding every span's files under their relative paths (links
    to local files, copies of gs:// ones); a file of a later span with the same relative path is
    kept under a name prefixed by its span."""
    for span in spans:
        for root, _, files in fileio.walk(span.path):
            root = root.decode() if isinstance(root, bytes) else root
            relative = os.path.relpath(root.rstrip("/"), span.path.rstrip("/"))
            target_dir = os.path.normpath(os.path.join(path, relative))
            os.makedirs(target_dir, exist_ok=True)
            for name in files:
                name = name.decode() if isinstance(name, bytes) else name
                target = os.path.join(target_dir, name)
                if os.path.lexists(target):
                    target = os.path.join(target_dir, f"span{span.number}-{name}")
                source = os.path.join(root, name)
                if "://" in source:
                    fileio.copy(source, target)
                else:
                    os.symlink(os.path.abspath(source), target)
    return path


def join(spans: list[Span], directory: str) -> str:
    """The spans as one source under `directory`: their rows as one CSV, or their files as one folder."""
    folders = [fileio.isdir(s.path) for s in spans]
    if any(folders) and not all(folders):
        raise SpanError(f"the spans mix files and folders: {[s.name for s in spans]}")
    first, last = spans[0].number, spans[-1].number
    if all(folders):
        return join_folders(spans, os.path.join(directory, f"spans-{first}-{last}"))
    return join_rows(spans, os.path.join(directory, f"spans-{first}-{last}.csv"))
