"""How a cost grows with data: the exponent k of `cost ∝ size^k`, and where a component breaks.

The `scale` benchmark measures each component at a few data sizes (1x, 4x, 16x). Two
questions follow, answered here without running anything: is the growth at most linear
(k <= 1.1, the issue's goal), and at what size would a component stop fitting this machine?
Time is fitted as a power law (least squares on log-log), as asked. Memory is extrapolated
with an affine fit, `rss = base + per_size * size`, instead: a component's resident memory is
the process's fixed footprint (TensorFlow, Beam, ~1 GB) plus what the data adds, and a
power law through a large constant reads as k << 1 and would promise memory that never grows.
"""
from __future__ import annotations

import math

import numpy as np

GIB = 2**30
DAY_S = 24 * 3600.0  # a component slower than this misses a daily schedule's next run
LINEAR_K = 1.1  # the goal: no component's time grows faster than size^1.1
# A fitted growth smaller than this fraction of the cost, across the sizes measured, is the
# least-squares fit's rounding (its last bits differ between AVX2 and AVX-512 machines), not
# growth: a flat cost fits a slope of +1e-25 on one CPU and -1e-25 on another.
FLAT = 1e-9


def exponent(sizes, values) -> float | None:
    """k in `value ∝ size^k`, least squares on log-log; None without two positive points."""
    points = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None and v > 0 and s > 0]
    if len({s for s, _ in points}) < 2:
        return None
    logs = np.log([[s, v] for s, v in points])  # (P, 2)
    k, _ = np.polyfit(logs[:, 0], logs[:, 1], 1)
    return float(k)


def power_at(sizes, values, target: float) -> float | None:
    """The power-law fit's value at `target` (None when it cannot be fitted)."""
    k = exponent(sizes, values)
    if k is None:
        return None
    points = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None and v > 0]
    log_a = np.mean([math.log(v) - k * math.log(s) for s, v in points])
    return float(math.exp(log_a) * target**k)


def affine_at(sizes, values, target: float) -> float | None:
    """The affine fit's value at `target`, never below the largest value measured."""
    points = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None]
    if len({s for s, _ in points}) < 2:
        return None
    xy = np.array(points, dtype=float)  # (P, 2)
    slope, base = np.polyfit(xy[:, 0], xy[:, 1], 1)
    return float(max(base + slope * target, xy[:, 1].max()))


def size_reaching(sizes, values, limit: float, model: str) -> float | None:
    """The data size at which the fitted cost reaches `limit` (None: it never does, or no fit).

    `model` is "power" (time) or "affine" (memory), as above."""
    points = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None and v > 0]
    if len({s for s, _ in points}) < 2:
        return None
    if model == "power":
        k = exponent(sizes, values)
        if k is None or k <= FLAT:
            return None
        log_a = np.mean([math.log(v) - k * math.log(s) for s, v in points])
        log_size = (math.log(limit) - log_a) / k
        return float(math.exp(log_size)) if log_size < 700 else None  # beyond any float: never
    xy = np.array(points, dtype=float)
    slope, base = np.polyfit(xy[:, 0], xy[:, 1], 1)
    if slope * np.ptp(xy[:, 0]) <= FLAT * np.abs(xy[:, 1]).max():
        return None
    return float((limit - base) / slope)


def first_to_break(costs: dict[str, dict], sizes, ram_bytes: float, time_limit_s: float = DAY_S):
    """(component, size, why) of the component whose fitted memory or time first reaches the
    machine's RAM or `time_limit_s` as the data grows; None when none does.

    `costs[component]` holds "seconds" and "rss_bytes", one value per size in `sizes`."""
    found = []
    for name, cost in costs.items():
        for key, limit, model, what in (("rss_bytes", ram_bytes, "affine", "resident memory reaches the RAM"),
                                        ("seconds", time_limit_s, "power", "time reaches a day")):  # fmt: skip
            size = size_reaching(sizes, cost[key], limit, model)
            if size is not None:
                found.append((size, name, what))
    if not found:
        return None
    size, name, what = min(found)
    return name, size, what


def raises(peaks: list[float | None]) -> list[float | None]:
    """How far each component, in run order, lifted the run's high-water mark of resident memory:
    its peak minus the largest peak before it (<= 0: it only held what earlier components left
    resident, since allocators rarely give freed memory back). One process runs them all, so
    only a component that lifts the mark can be the one that first runs out of memory."""
    lifted, mark = [], 0.0
    for peak in peaks:
        lifted.append(None if peak is None else peak - mark)
        mark = max(mark, peak or 0.0)
    return lifted
