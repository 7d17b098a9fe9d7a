"""The report's HTML kit: tables, embedded plots, a section that fails alone. No network."""
from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # no display; PNGs only
import matplotlib.pyplot as plt  # noqa: E402


def png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value)


def guarded(title: str, build: Callable[[], str]) -> str:
    try:
        body = build()
    except Exception as error:  # a missing artifact should not lose the rest of the report
        body = f"<p><i>Not available: {html.escape(type(error).__name__)}: {html.escape(str(error))}</i></p>"
    return f'<section><h2>{html.escape(title)}</h2>{body}</section>'


STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f0f0f0}img{max-width:100%}h2{border-bottom:1px solid #ddd}"""
