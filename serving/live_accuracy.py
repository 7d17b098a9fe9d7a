"""Live accuracy with delayed truth: the deployed model's error on the requests it served, next to
its challengers' on the same requests, once the truth of those requests has arrived.

`make monitor TRUTH=<file>` (pipeline/monitor.py) reads the logged requests (serving/request_log.py)
and hands them, with the truth file, to the task (`TaskSpec.live_truth`): the task knows what a
request's key means and what its truth looks like, joins the two, and returns a `Joined`: each
request's status (joined, truth not known yet, no usable key) and each model's loss on it. This
module does everything that is the same for every task: check what the task returned, count,
compare each challenger with the deployed model on the same joined requests (the gate's paired
evidence, components/paired_evidence.py), average by day of the requests' logged time, and say it
in lines and in the JSON the report reads (reporting/monitoring.py). It names no task.

The deployed model's loss is its *logged* prediction's: what the users got, from whichever
version served them (`__version__`); a challenger computed by the deployed model's `evaluation`
signature is today's deployed version's.
"""
from __future__ import annotations

import dataclasses
import datetime

import numpy as np

from components import paired_evidence

DEPLOYED = "deployed"  # the logged predictions' name among a Joined's losses
JOINED, UNKNOWN, NO_KEY = "joined", "unknown", "no_key"  # a request's status
STATUSES = (JOINED, UNKNOWN, NO_KEY)
STATUS_WORDS = {JOINED: "joined", UNKNOWN: "truth not known yet", NO_KEY: "without a usable key"}
DAY_FORMAT = "%Y-%m-%d"  # UTC days of the requests' `__time__`


@dataclasses.dataclass
class Joined:
    """What a task's `live_truth` returns for N logged requests, in their order.

    `losses[DEPLOYED]` is the logged prediction's; every other entry a challenger's on the same
    requests. A loss is NaN unless its request is JOINED; a challenger that cannot be computed
    for a joined request (NaN there) is compared on the requests where it can."""

    status: list[str]  # (N,) JOINED | UNKNOWN (the key is fine, its truth has not arrived) | NO_KEY
    losses: dict[str, np.ndarray]  # model -> (N,) per-request loss
    loss: str = "loss"  # what a loss is ("MAE", "0/1 error"): the table's header
    block: int = 1  # the shortest dependence between neighbouring requests' losses (a forecast horizon)
    notes: list[str] = dataclasses.field(default_factory=list)  # e.g. a challenger left out, and why

    def __post_init__(self) -> None:
        count = len(self.status)
        unknown = sorted(set(self.status) - set(STATUSES))
        if unknown:
            raise ValueError(f"live_truth: unknown request status(es) {unknown}; expected {STATUSES}")
        if DEPLOYED not in self.losses:
            raise ValueError(f"live_truth: no '{DEPLOYED}' losses (the logged predictions')")
        self.losses = {name: np.asarray(values, np.float64).reshape(-1) for name, values in self.losses.items()}
        wrong = {name: values.size for name, values in self.losses.items() if values.size != count}
        if wrong:
            raise ValueError(f"live_truth: {count} requests but losses of sizes {wrong}")
        joined = self.joined_mask
        if not np.isfinite(self.losses[DEPLOYED][joined]).all():
            raise ValueError("live_truth: the deployed model's loss must be finite on every joined request")

    @property
    def joined_mask(self) -> np.ndarray:
        return np.asarray(self.status) == JOINED  # (N,)

    def counts(self) -> dict[str, int]:
        return {s: self.status.count(s) for s in STATUSES}


def generated_key(key: str | None) -> bool:
    """Whether a key is one the request log made up (a uuid4 hex: the client sent none), so that
    no truth can name it: such a request is counted as without a usable key."""
    return key is None or (len(key) == 32 and key[12] == "4" and all(c in "0123456789abcdef" for c in key))


def day_of(millis: int) -> str:
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC).strftime(DAY_FORMAT)


def summarize(joined: Joined, times_ms: list[int]) -> dict:
    """The JSON of one live-accuracy check: counts, each model's mean loss on the joined requests,
    each challenger's paired difference with the deployed model (`diff` = challenger's mean loss
    - the deployed model's, on the requests both have: positive, the deployed model is better),
    and the daily means, by UTC day of the requests' logged time."""
    mask = joined.joined_mask
    deployed = joined.losses[DEPLOYED]
    models = {}
    for name, values in joined.losses.items():
        usable = mask & np.isfinite(values)  # (N,)
        entry = {"mean": float(values[usable].mean()) if usable.any() else None, "requests": int(usable.sum())}
        if name != DEPLOYED and usable.sum() >= 2:
            gains = values[usable] - deployed[usable]  # (n,) in request order: neighbours stay neighbours
            evidence = paired_evidence.interval(gains, block=paired_evidence.block_length(gains, minimum=joined.block))
            entry.update(evidence.as_dict())
        models[name] = entry
    days: dict[str, list[int]] = {}
    for index in np.flatnonzero(mask):
        days.setdefault(day_of(times_ms[index]), []).append(int(index))
    daily = [{"day": day, "requests": len(rows),
              "mean": {name: _mean(values[rows]) for name, values in joined.losses.items()}}
             for day, rows in sorted(days.items())]  # fmt: skip
    return {"requests": len(joined.status), **joined.counts(), "loss": joined.loss, "deployed": DEPLOYED,
            "models": models, "daily": daily, "notes": list(joined.notes)}  # fmt: skip


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def render(summary: dict, truth: str) -> list[str]:
    """The printed table: the requests joined, then each model's mean loss and its difference."""
    counts = ", ".join(f"{summary[s]} {STATUS_WORDS[s]}" for s in STATUSES)
    lines = [f"Live accuracy against {truth}: {summary['requests']} requests: {counts}"]
    if not summary[JOINED]:
        lines.append("  no request could be joined to its truth yet: nothing to compare")
        return lines + [f"  note: {n}" for n in summary["notes"]]
    width = max(len(name) for name in summary["models"])
    lines.append(f"  {'model':<{width}}  {summary['loss']:>10}  {'requests':>8}  vs deployed (challenger - deployed, 95% CI)")
    for name, entry in summary["models"].items():
        mean = "-" if entry["mean"] is None else f"{entry['mean']:.4g}"
        versus = ""
        if "diff" in entry:
            said = {"better": "deployed better", "worse": "deployed worse", "no_difference": "no difference"}[entry["verdict"]]
            versus = f"{entry['diff']:+.4g} [{entry['ci_low']:+.4g}, {entry['ci_high']:+.4g}] {said}"
        lines.append(f"  {name:<{width}}  {mean:>10}  {entry['requests']:>8}  {versus}".rstrip())
    return lines + [f"  note: {n}" for n in summary["notes"]]
