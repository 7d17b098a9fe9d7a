"""The Scorer's output of a run (eval and test scores of the candidate and its challengers),
read from ML Metadata, and its rendering for the summary, `make inspect` and the report."""
from __future__ import annotations

import json

from components.scoring import NAME_PROPERTY, SCORES_PROPERTY
from pipeline import mlmd

SPLITS = ("eval", "test")


def of_run(executions: list[mlmd.ExecutionInfo]) -> tuple[str, dict] | None:
    """(name, scores) from the run's Scorer, or None when the run has no scores."""
    scorer = next((e for e in executions if e.outputs.get("scores")), None)  # the Scorer, or a gate that scores
    if scorer is None:
        return None
    artifact = scorer.outputs["scores"][0]
    raw = mlmd.custom(artifact, SCORES_PROPERTY)
    return (mlmd.custom(artifact, NAME_PROPERTY) or "scores"), json.loads(raw) if raw else {}


def table_rows(scores: dict) -> tuple[list[str], list[list]]:
    """(header, rows): one row per forecaster or classifier, each metric on eval and test."""
    splits = [s for s in SPLITS if isinstance(scores.get(s), dict)]
    if not splits:
        return [], []
    names = list(scores[splits[0]])
    metrics = list(next(iter(scores[splits[0]].values())))
    header = ["", *[f"{split} {metric}" for split in splits for metric in metrics]]
    rows = [[name, *[scores[split].get(name, {}).get(metric) for split in splits for metric in metrics]] for name in names]
    return header, rows


def lines(name: str, scores: dict, spec=None) -> list[str]:
    """The scores as lines: the task's own way (its TaskSpec's `score_lines`), else a table of splits."""
    if spec is not None and spec.score_lines:
        return spec.call("score_lines", name, scores)
    header, rows = table_rows(scores)
    if not rows:
        return []
    width = max(len(str(r[0])) for r in rows) + 2
    cell = max(len(h) for h in header[1:]) + 2
    out = [f"Scores ({name}; the test split chooses nothing):", "  " + " " * width + "".join(f"{h:>{cell}s}" for h in header[1:])]
    for row in rows:
        cells = "".join(f"{v:{cell}.4f}" if isinstance(v, float) else f"{'-':>{cell}s}" for v in row[1:])
        out.append(f"  {row[0]:<{width}s}{cells}")
    return out
