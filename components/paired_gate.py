"""The gate's rule: paired evidence of the candidate against each challenger and the deployed model.

Every model is scored on the same eval examples, in the split's order (time order for
forecast windows), by the task's per-example loss (`GateSpec.losses`): an absolute error
per window, 1 - correct per example, 1 - exact match per clip. The evidence of each
comparison is the mean paired gain with its 95 % interval (components/paired_evidence.py),
and each comparison has one rule:
- superiority (the naive challengers: persistence, seasonal naive, the majority class):
  the interval must lie above 0, the verdict `better`;
- non-inferiority (the strong simple challenger, and the deployed model): the interval
  must exclude a loss larger than the margin. `beat_strong` turns the strong challenger's
  rule into superiority.

A point estimate alone decided before: a ratio of 1.0001 refused a model at the level of
the published state of the art, and one eval article flipped a blessing.

The candidate's gain over its own start (the ridge path it grows from, the wide part) is
reported with the epoch KeepBest kept, so that a run says plainly when the deployed
"transformer" is its linear start. The result travels as JSON: in the Evaluator's
evaluation artifact (`paired_gate.json`), and as a custom property of the evaluation and
the blessing, read by the summary, `make inspect` and the report.
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from components import paired_evidence as pe

PAIRED_GATE_KEY = "paired_gate"  # the Evaluator's execution property: a GateSpec as JSON
GATE_FILE = "paired_gate.json"  # the judgement, in the evaluation artifact
GATE_PROPERTY = "paired_gate"  # the same JSON, on the evaluation and blessing artifacts
CANDIDATE = "model"  # the candidate's entry in a task's losses
DEPLOYED = "deployed"
SUPERIORITY, NON_INFERIORITY = "superiority", "non_inferiority"
RELATIVE_UNIT = "fraction of the other model's MAE"
POINTS_UNIT = "accuracy points"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One challenger the candidate is compared with: its entry in the losses, in words, its rule."""

    name: str
    label: str  # "the persistence challenger"
    rule: str  # SUPERIORITY | NON_INFERIORITY
    margin: float = 0.0  # non-inferiority: the largest loss allowed, in the gate's unit


@dataclasses.dataclass(frozen=True)
class GateSpec:
    """What the Evaluator needs to judge: the task's losses, the rules, the units."""

    losses: str  # dotted: (outputs of the evaluation signature, serialized examples, config) -> {name: (n,) losses}
    comparisons: tuple[Comparison, ...]
    deployed_margin: float  # non-inferiority to the deployed model, in the gate's unit
    relative: bool  # gains as a fraction of the other model's mean loss (forecast MAE), else absolute
    unit: str
    block: int = 1  # shortest resampled block (a horizon for overlapping windows)
    ordered: bool = False  # examples in time order (windows): blocks follow their autocorrelation; else independent
    start: str | None = None  # the losses' entry the candidate starts from (its linear path, its wide part)
    start_label: str = ""  # "the ridge forecaster inside RevIN"
    grows_from_start: bool = True  # the candidate's weights start at `start` (False: a reference only, as pixel LR for a ViT)
    config: dict = dataclasses.field(default_factory=dict)  # what `losses` reads

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GateSpec:
        raw = json.loads(text)
        return cls(**{**raw, "comparisons": tuple(Comparison(**c) for c in raw["comparisons"])})


def margin_in(value, unit: str, key: str) -> float:
    """A margin from `evaluation.<key>`: a number in [0, 1) of `unit`."""
    margin = float(value)
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"evaluation.{key} ({value}) must be {unit} in [0, 1)")
    return margin


def gains(candidate: np.ndarray, other: np.ndarray, relative: bool) -> np.ndarray:
    """(n,) other's loss minus the candidate's (> 0: the candidate did better there), as a
    fraction of the other's mean loss when `relative`."""
    candidate, other = np.asarray(candidate, np.float64), np.asarray(other, np.float64)
    if candidate.shape != other.shape:
        raise ValueError(f"paired losses differ in shape: candidate {candidate.shape}, other {other.shape}")
    difference = other - candidate
    if relative:
        scale = float(other.mean())
        difference = difference / (scale if scale > 0 else 1.0)
    return difference


def evidence(candidate, other, spec: GateSpec) -> pe.Evidence:
    """The paired interval: moving blocks for examples in time order, one by one otherwise (an
    autocorrelation of examples stored, say, by class would be an artefact of their order)."""
    found = gains(candidate, other, spec.relative)
    return pe.interval(found, block=pe.block_length(found, minimum=spec.block) if spec.ordered else 1)


def shown(value: float, unit: str) -> str:
    """A gain as a user reads it: percent of the other's MAE, or accuracy points."""
    return f"{value:+.2%}" if unit == RELATIVE_UNIT else f"{100 * value:+.2f} points"


def in_words(entry: dict, unit: str) -> str:
    """"better than the persistence challenger: +3.10% [+1.20%, +5.00%] (superiority)"."""
    verdict = {pe.BETTER: "better than", pe.WORSE: "worse than", pe.NO_DIFFERENCE: "no significant difference from"}
    rule = "must be better" if entry["rule"] == SUPERIORITY else f"may lose at most {shown(entry['margin'], unit)[1:]}"
    return (
        f"{verdict[entry['verdict']]} {entry['label']}: {shown(entry['diff'], unit)} "
        f"[{shown(entry['ci_low'], unit)}, {shown(entry['ci_high'], unit)}] ({rule}: {'passed' if entry['passed'] else 'FAILED'})"
    )


def judged(comparison: Comparison, found: pe.Evidence) -> dict:
    passed = found.superior() if comparison.rule == SUPERIORITY else found.non_inferior(comparison.margin)
    return {**found.as_dict(), "label": comparison.label, "rule": comparison.rule, "margin": comparison.margin,
            "passed": bool(passed)}  # fmt: skip


def judge(spec: GateSpec, losses: dict, deployed: np.ndarray | None = None, kept_epoch: int | None = None,
          warm_started: bool = False) -> dict:  # fmt: skip
    """The gate's decision from per-example `losses` ({name: (n,)}, with CANDIDATE) and the
    deployed model's losses on the same examples (None: nothing deployed, or not comparable).

    {"gate": {name: evidence, verdict, rule, passed}, "transformer_gain": {...} or None,
    "blessed", "reasons" (each failed comparison in words), "lines" (every comparison in
    words), "statement" (what the deployed model is), "unit"}. `warm_started`: the candidate's
    epoch 0 was the blessed model's weights (trainer.warm_start), not its start."""
    missing = [c.name for c in spec.comparisons if c.name not in losses] + ([] if CANDIDATE in losses else [CANDIDATE])
    if missing:  # fail closed: a challenger that is not there did not lose
        raise ValueError(f"the gate has no losses for {missing} (found {sorted(losses)}): nothing can be blessed")
    gate = {c.name: judged(c, evidence(losses[CANDIDATE], losses[c.name], spec)) for c in spec.comparisons}
    if deployed is not None:
        comparison = Comparison(DEPLOYED, "the deployed model", NON_INFERIORITY, spec.deployed_margin)
        gate[DEPLOYED] = judged(comparison, evidence(losses[CANDIDATE], deployed, spec))
    lines = [in_words(entry, spec.unit) for entry in gate.values()]
    result = {
        "gate": gate,
        "unit": spec.unit,
        "blessed": all(entry["passed"] for entry in gate.values()),
        "reasons": [line for line, entry in zip(lines, gate.values(), strict=True) if not entry["passed"]],
        "lines": lines,
        "transformer_gain": None,
        "statement": None,
    }
    if spec.start and spec.start in losses:
        gain = evidence(losses[CANDIDATE], losses[spec.start], spec)
        result["transformer_gain"] = {**gain.as_dict(), "kept_epoch": kept_epoch, "over": spec.start_label,
                                      "warm_started": warm_started}  # fmt: skip
        result["statement"] = statement(result["transformer_gain"], spec.unit, spec.grows_from_start)
    return result


def statement(gain: dict, unit: str, grows_from_start: bool = True) -> str:
    """One line on what the transformer added to its start (or, for a model with no linear
    start, to the linear reference)."""
    figures = f"{shown(gain['diff'], unit)} [{shown(gain['ci_low'], unit)}, {shown(gain['ci_high'], unit)}]"
    if gain.get("warm_started"):  # epoch 0 is the blessed model, not the start: say what it is measured against
        epoch = gain.get("kept_epoch")
        kept = "0, the warm start itself" if epoch == 0 else epoch
        return (f"the transformer was warm-started from the blessed model (KeepBest kept epoch {kept}); "
                f"against {gain['over']}: {figures}")  # fmt: skip
    if not grows_from_start:
        verdict = {pe.BETTER: "better than", pe.WORSE: "worse than", pe.NO_DIFFERENCE: "not significantly better than"}
        return f"the transformer is {verdict[gain['verdict']]} {gain['over']}: {figures} (kept epoch {gain.get('kept_epoch')})"
    if gain.get("kept_epoch") == 0:
        return (f"KeepBest kept epoch 0: the transformer did not improve on its start on eval; "
                f"the model is {gain['over']} ({figures} against it)")  # fmt: skip
    kept = f" (KeepBest kept epoch {gain.get('kept_epoch')})"
    if gain["verdict"] == pe.BETTER:
        return f"the transformer improved on its start, {gain['over']}: {figures}{kept}"
    if gain["verdict"] == pe.WORSE:
        return f"the transformer is worse than its start, {gain['over']}, on the gate's examples: {figures}{kept}"
    return (f"the transformer did not improve significantly on its start, {gain['over']}: {figures}{kept}; "
            "the model is in effect its start")  # fmt: skip


def write(result: dict, evaluation_uri: str, artifacts) -> None:
    """The judgement into the evaluation artifact's folder and onto `artifacts`' custom properties."""
    os.makedirs(evaluation_uri, exist_ok=True)
    with open(os.path.join(evaluation_uri, GATE_FILE), "w") as handle:
        json.dump(result, handle, indent=2)
    for artifact in artifacts:
        artifact.set_string_custom_property(GATE_PROPERTY, json.dumps(result))
