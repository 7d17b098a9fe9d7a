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

Selection on eval, then the gate (issue 29, item 3): the Tuner's trials, `KeepBest`'s epochs
(the start counted) and the variant choice pick the candidate with the best eval score; if
the gate then tests that candidate on the same eval examples, its gain is the largest of
many noisy ones, and is inflated. `selection_rows` measures by how much, with candidates
whose gains correlate as those of one run's epochs (0.97) and of different trials (0.68)
do, all equally good (A/A) or all truly worse than the challenger by exactly the margin,
for two designs: select and gate on all of eval, or select on the first half of eval (in
time, for windows) and gate on the second half.
"""
from __future__ import annotations

import numpy as np
from scipy import stats
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


# Selection on eval, then the gate.
TRIALS = 3  # the Tuner's trials (the time series' and text's max_trials)
FORECAST_EPOCHS = 11  # per trial: the start and 10 epochs, among which KeepBest keeps one
CLASSIFIER_EPOCHS = 9  # per trial: the start and 8 epochs
EPOCH_CORRELATION = 0.97  # of the gains of two epochs of one run
TRIAL_CORRELATION = 0.7  # of the common parts of two runs: their epochs' gains correlate 0.97 * 0.7 = 0.68
FORECAST_GAIN_SD = 0.16  # per-window gain / the challenger's MAE: errors correlated 0.99 (forecast_gains(s, 0.99))
FORECAST_MARGIN = 0.02  # non-inferiority margin: 2 % of the challenger's MAE
FORECAST_BETTER = 0.05  # power: a 5 % lower MAE
CHALLENGER_ACCURACY = 0.8
ACCURACY_MARGIN = 0.01  # non-inferiority margin: 1 accuracy point
ACCURACY_BETTER = 0.03  # power: 3 points
DESIGNS = ("one candidate, no selection", "selected on all of eval, gated on all of eval",
           "selected on eval's first half, gated on its second half")  # fmt: skip


def correlated_normals(rng: np.random.Generator, epochs: int, length: int) -> np.ndarray:
    """(TRIALS * epochs, length) standard normals, independent along `length`; two epochs of one
    trial correlate EPOCH_CORRELATION, two of different trials EPOCH_CORRELATION * TRIAL_CORRELATION."""
    common = rng.normal(size=length)  # (L,)
    trials = np.sqrt(TRIAL_CORRELATION) * common + np.sqrt(1 - TRIAL_CORRELATION) * rng.normal(size=(TRIALS, length))
    own = rng.normal(size=(TRIALS, epochs, length))  # (TRIALS, E, L)
    epochs_ = np.sqrt(EPOCH_CORRELATION) * trials[:, None] + np.sqrt(1 - EPOCH_CORRELATION) * own
    return epochs_.reshape(TRIALS * epochs, length)


def candidates_forecast_gains(seed: int, shift: float, rho: float = 0.9) -> np.ndarray:
    """(TRIALS * FORECAST_EPOCHS, WINDOWS) per-window gains over a challenger whose MAE is 1, each
    candidate's an AR(1) with `rho` (as `ar1_gains`), sd FORECAST_GAIN_SD, true mean `shift`."""
    noise = correlated_normals(np.random.default_rng(seed), FORECAST_EPOCHS, WINDOWS + 200)
    ar = lfilter([1.0], [1.0, -rho], noise, axis=1)[:, 200:] * np.sqrt(1 - rho**2)  # (K, W), unit variance
    return shift + FORECAST_GAIN_SD * ar


def candidates_accuracy_gains(seed: int, better_points: float, disagree: float = 0.10, examples: int = 1000) -> np.ndarray:
    """(TRIALS * CLASSIFIER_EPOCHS, examples) gains in {-1, 0, 1}: each candidate disagrees with the
    challenger (right where it is wrong, or wrong where it is right) on `disagree` of the examples,
    and is `better_points` more accurate; correlated candidates disagree on mostly the same examples."""
    rng = np.random.default_rng(seed)
    challenger_right = rng.random(examples) < CHALLENGER_ACCURACY  # (N,)
    only_candidate, only_challenger = (disagree + better_points) / 2, (disagree - better_points) / 2
    flips = np.where(challenger_right, only_challenger / CHALLENGER_ACCURACY, only_candidate / (1 - CHALLENGER_ACCURACY))
    flipped = stats.norm.cdf(correlated_normals(rng, CLASSIFIER_EPOCHS, examples)) < flips  # (K, N)
    return np.where(flipped, np.where(challenger_right, -1.0, 1.0), 0.0)


def selected_evidence(gains: np.ndarray, design: str, block, seed: int, samples: int = SAMPLES) -> pe.Evidence:
    """The gate's evidence for the candidate a design selects among `gains` (K, N): the best mean
    gain (the lowest eval loss, the highest eval accuracy), tested on the design's gate part.
    `block(gate_gains) -> int`: the resampled block length, as the gate picks it."""
    half = gains.shape[1] // 2  # for windows: the earlier half in time
    if design == DESIGNS[0]:
        gate = gains[0]
    elif design == DESIGNS[1]:
        gate = gains[np.argmax(gains.mean(axis=1))]
    elif design == DESIGNS[2]:
        gate = gains[np.argmax(gains[:, :half].mean(axis=1)), half:]
    else:
        raise ValueError(f"design {design!r} is none of {DESIGNS}")
    return pe.interval(gate, block(gate), samples, seed=seed)


RATES = ("A/A better", "false non-inferior", "power")


def selection_rate(kind: str, design: str, which: str, decisions: int = DECISIONS, samples: int = SAMPLES) -> float:
    """One of RATES of `design` for `kind` "forecast" or "accuracy": equal candidates called `better`;
    candidates truly worse by exactly the margin blessed as non-inferior (the interval's lower
    tail: 2.5 % without selection); truly better ones called `better`. `samples`: bootstrap
    resamples per interval (fewer make a faster test; the rule is the gate's)."""
    if kind == "forecast":
        gains, block, margin, better = candidates_forecast_gains, blocked, FORECAST_MARGIN, FORECAST_BETTER
    else:
        gains, block, margin, better = candidates_accuracy_gains, (lambda g: 1), ACCURACY_MARGIN, ACCURACY_BETTER
    truth = {RATES[0]: 0.0, RATES[1]: -margin, RATES[2]: better}[which]
    rule = (lambda e: e.non_inferior(margin)) if which == RATES[1] else pe.Evidence.superior
    return rate(lambda s: rule(selected_evidence(gains(s, truth), design, block, s, samples)), decisions)


def selection_rows(decisions: int = DECISIONS) -> list[dict]:
    scenarios = {
        "forecast": ("timeseries", f"best of {TRIALS} trials x {FORECAST_EPOCHS} epochs on 1,000 windows (AR(1) 0.9), margin 2 % of MAE",
                     "5 % lower MAE (gain sd 16 % of MAE)"),
        "accuracy": ("text, vision, speech", f"best of {TRIALS} trials x {CLASSIFIER_EPOCHS} epochs on 1,000 examples, 10 % disagree, margin 1 point",
                     "3 points"),
    }  # fmt: skip
    return [{"task": task, "comparison": comparison, "design": design, **{r: selection_rate(kind, design, r, decisions) for r in RATES}, "power of": power_of}
            for kind, (task, comparison, power_of) in scenarios.items() for design in DESIGNS]  # fmt: skip


def run(args) -> list[dict]:
    del args
    return rows() + selection_rows()
