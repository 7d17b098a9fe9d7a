"""How often the gate's paired evidence (components/paired_evidence.py) decides wrongly, per task.

Simulated per-example gains whose truth is known, seeded, in the shapes each task's gate
meets (tests/test_gate_error_rate.py asserts the bounds; this prints the table):
- forecasts: absolute errors of two forecasters on 1,000 eval windows, correlated 0.9
  (a naive challenger) or 0.99 (the ridge start the transformer grows from);
- overlapping windows: gains following an AR(1) with rho = 0.9 (the case an i.i.d. bootstrap
  gets wrong), resampled in blocks of `block_length` (at least a horizon of 12);
- classifiers: correctness on 1,000 examples, the models disagreeing on 10 % of them;
- decision: returns of 20 seeded episodes, each policy on the same seeds (spread 174, as
  behaviour cloning's on CartPole).
Rates: `better` called for equal models (A/A, at most 5 %), an equal model passing
non-inferiority (at least 95 %), and a truly better model called `better` (power, at least 80 %).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from components import paired_evidence as pe

DECISIONS = 500  # simulated decisions per rate
SAMPLES = 1000  # bootstrap resamples per decision
WINDOWS = 1000
HORIZON = 12


def forecast_gains(seed: int, correlation: float, candidate_scale: float = 1.0) -> tuple[np.ndarray, float]:
    """(gains (WINDOWS,), the challenger's MAE): challenger |e2| - candidate |scale * e1|."""
    rng = np.random.default_rng(seed)
    errors = rng.multivariate_normal([0, 0], [[1, correlation], [correlation, 1]], size=WINDOWS)  # (W, 2)
    challenger = np.abs(errors[:, 1])
    return challenger - np.abs(candidate_scale * errors[:, 0]), float(challenger.mean())


def accuracy_gains(seed: int, better_points: float, disagree: float = 0.10, examples: int = 1000) -> np.ndarray:
    """1 where only the candidate is right, -1 where only the challenger is, 0 where they agree."""
    u = np.random.default_rng(seed).random(examples)
    only_candidate = (disagree + better_points) / 2
    return np.where(u < only_candidate, 1.0, np.where(u < disagree, -1.0, 0.0))


def ar1_gains(seed: int, rho: float = 0.9, shift: float = 0.0) -> np.ndarray:
    """(WINDOWS,) gains with lag-1 autocorrelation `rho` around `shift`, as overlapping windows give."""
    noise = np.random.default_rng(seed).normal(size=WINDOWS + 200)
    return lfilter([1.0], [1.0, -rho], noise)[200:] + shift  # the first 200 steps forget the start


def return_gains(seed: int, better: float = 0.0, episodes: int = 20, spread: float = 174.0) -> np.ndarray:
    """Candidate minus challenger return per seeded episode (the seed shared, so half the spread is too)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, spread * np.sqrt(0.5), episodes)  # what the seed decides for both policies
    return (shared + rng.normal(0, spread * np.sqrt(0.5), episodes) + better) - (shared + rng.normal(0, spread * np.sqrt(0.5), episodes))


def rate(decide, decisions: int = DECISIONS) -> float:
    return float(np.mean([decide(seed) for seed in range(decisions)]))


def superior(gains, block: int = 1, seed: int = 0) -> bool:
    return pe.interval(gains, block, SAMPLES, seed=seed).superior()


def blocked(gains) -> int:
    return pe.block_length(gains, HORIZON)


def rows(decisions: int = DECISIONS) -> list[dict]:
    def non_inferior(seed):
        gains, challenger_mae = forecast_gains(seed, 0.99)
        return pe.interval(gains, samples=SAMPLES, seed=seed).non_inferior(0.02 * challenger_mae)

    r = lambda decide: rate(decide, decisions)  # noqa: E731
    return [
        {"task": "timeseries", "comparison": "forecast MAE, 1,000 windows, vs naive (errors corr. 0.9)",
         "A/A better": r(lambda s: superior(forecast_gains(s, 0.9)[0], seed=s)),
         "power": r(lambda s: superior(forecast_gains(s, 0.9, 0.95)[0], seed=s)), "power of": "5 % lower MAE"},
        {"task": "timeseries", "comparison": "forecast MAE vs its ridge start (corr. 0.99), margin 2 % of MAE",
         "A/A non-inferior": r(non_inferior)},
        {"task": "timeseries", "comparison": "overlapping windows, AR(1) 0.9, moving blocks",
         "A/A better": r(lambda s: superior(ar1_gains(s), blocked(ar1_gains(s)), s)),
         "power": r(lambda s: superior(ar1_gains(s, shift=0.6), blocked(ar1_gains(s, shift=0.6)), s)),
         "power of": "gain of 0.26 sd", "A/A better, i.i.d. bootstrap": r(lambda s: superior(ar1_gains(s), 1, s))},
        {"task": "text, vision, speech", "comparison": "accuracy (exact transcripts), 1,000 examples, 10 % disagree",
         "A/A better": r(lambda s: superior(accuracy_gains(s, 0.0), seed=s)),
         "power": r(lambda s: superior(accuracy_gains(s, 0.03), seed=s)), "power of": "3 points"},
        {"task": "decision", "comparison": "return, 20 seeded episodes, spread 174",
         "A/A better": r(lambda s: superior(return_gains(s), seed=s)),
         "power": r(lambda s: superior(return_gains(s, 150.0), seed=s)), "power of": "150 more return"},
    ]  # fmt: skip


def run(args) -> list[dict]:
    del args
    return rows()
