"""What `make predict` reads from the command line, checked before any model is loaded."""
from __future__ import annotations

import pathlib


def existing_files(files: list[str] | None, kind: str, usage: str) -> list[pathlib.Path]:
    """The files a predict command was given (`--file`, repeatable), each checked to exist;
    `kind` ("image", "audio") and `usage` say what to give when there is none."""
    paths = [pathlib.Path(f) for f in (files or [])]
    if not paths:
        raise ValueError(f"give {usage}")
    missing = [str(f) for f in paths if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"no such {kind} file(s): {missing}")
    return paths
