"""How transcripts are scored: exact-transcript accuracy and character error rate (CER).

One home for the arithmetic the gate (components/classifier_metrics.py), the Scorer and the
benchmark share, so the figures they show cannot disagree.
"""
from __future__ import annotations

from collections.abc import Sequence


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance: the fewest character insertions, deletions and substitutions."""
    previous = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference, 1):
        current = [i]
        for j, h in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def transcript_scores(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """{"accuracy": share of exact transcripts, "cer": character edits / reference characters}."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    exact = sum(r == h for r, h in zip(references, hypotheses, strict=True))
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True))
    characters = sum(len(r) for r in references)
    return {"accuracy": exact / max(len(references), 1), "cer": edits / max(characters, 1)}
