"""The line of a TensorFlow error that says what went wrong, for messages a user reads.

A failing signature call raises "Graph execution error:", then "Detected at node ...",
a stack trace, and only then the op's own message ("assertion failed: ...", "Key: x ...
Number of float values != expected"): that is the line worth showing.
"""
from __future__ import annotations

BOILERPLATE = ("Graph execution error", "Detected at node", "<stack traces unavailable>")
MAX_CHARS = 300  # a shown reason is cut here


def summary(error: Exception) -> str:
    """`error`'s class and its first informative line, at most MAX_CHARS long."""
    lines = [line.strip() for line in str(error).splitlines()]
    told = [
        line for line, raw in zip(lines, str(error).splitlines(), strict=True)
        if line and not raw.startswith((" ", "\t")) and not line.startswith(BOILERPLATE)
    ]  # fmt: skip
    return f"{type(error).__name__}: {(told or lines or [''])[0][:MAX_CHARS]}"
