"""Where a task's data is: the user's file or folder (or a span pattern of them), else the default
it ships, prepared once."""
from __future__ import annotations

import pathlib
from collections.abc import Callable

from data import spans
from data.config import SpansConfig


def resolve(path: str | None, data_dir: str, prepare_default: Callable[[str], str], kind: str, folder: bool = False) -> str:
    """The absolute local path of the data: `path` (DATA) when given, else the packaged default
    that `prepare_default(data_dir)` makes (or finds) under OUTPUT_DIR/<task>/data.
    `kind` says what DATA must be, for the error: "a CSV of texts and labels".
    A span pattern (data/spans.py) is returned absolute once it matches at least one span."""
    if spans.is_pattern(path):
        pattern = str(pathlib.Path(path).absolute())
        if not spans.find(pattern):
            raise FileNotFoundError(f"no file or folder matches the span pattern {pattern} (DATA must be {kind}, or spans of it)")
        return pattern
    target = pathlib.Path(path) if path else pathlib.Path(prepare_default(data_dir))
    if not (target.is_dir() if folder else target.is_file()):
        raise FileNotFoundError(f"{'folder' if folder else 'file'} not found: {target} (DATA must be {kind})")
    return str(target.resolve())


def size_bytes(path: str, window: SpansConfig | None = None) -> int:
    """Bytes on disk of a data file, or of every file under a data folder (what Beam will read);
    of a span pattern, those of the spans `window` selects."""
    if spans.is_pattern(path):
        return sum(size_bytes(s.path) for s in spans.select(path, window or SpansConfig()))
    target = pathlib.Path(path)
    if target.is_dir():
        return sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return target.stat().st_size
