"""Statistics of a learning-rate sweep: spread over seeds, tuning, sensitivity, comparison.

Plain functions of NumPy arrays, so each is tested on inputs whose answer is known. A
diverged run counts as the worst possible value (``+inf`` for a lower-is-better metric,
``-inf`` for validation accuracy): medians and quartiles are rank statistics, so a
learning rate where most seeds diverge has an infinite median, one where a single seed of
five diverges keeps a finite one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: A learning rate is "as good as the best" when its median is within this fraction of it.
WIDTH_TOLERANCE = 0.1
#: Bootstrap resamples of the seeds; the generator seed fixes the answer.
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
#: A winner is named only when it beats every other entry with this probability.
CLEAR_WIN = 0.95


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of one learning rate's runs over the seeds."""

    median: float
    q25: float
    q75: float


def worst(higher_is_better: bool) -> float:
    """The value a diverged run counts as."""
    return -math.inf if higher_is_better else math.inf


def spread(values: Sequence[float] | np.ndarray) -> Spread:
    """Median, 25th and 75th percentile (linear interpolation between order statistics, as
    ``numpy.percentile``); infinities take part as values, NaN is never passed in."""
    array = np.sort(np.asarray(values, dtype=np.float64))
    if array.size == 0:
        return Spread(math.nan, math.nan, math.nan)
    return Spread(*(float(_percentile(array, q)) for q in (50.0, 25.0, 75.0)))


def _percentile(ordered: np.ndarray, q: float) -> float:
    """numpy.percentile's linear rule, written out so that two equal infinite neighbours
    give that infinity (numpy's interpolation computes inf - inf = nan)."""
    position = (ordered.size - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, ordered.size - 1)
    a, b = float(ordered[low]), float(ordered[high])
    if a == b or position == low:
        return a
    return a + (b - a) * (position - low)


def better(a: float, b: float, higher_is_better: bool) -> bool:
    return a > b if higher_is_better else a < b


def tuned_index(medians: Sequence[float], higher_is_better: bool) -> int | None:
    """Index of the best median (the smallest learning rate among equals); None when every
    median is the worst value (everything diverged or never reached the target)."""
    best: int | None = None
    for index, value in enumerate(medians):
        if math.isnan(value) or value == worst(higher_is_better):
            continue
        if best is None or better(value, medians[best], higher_is_better):
            best = index
    return best


def within_tolerance(value: float, best: float, higher_is_better: bool) -> bool:
    """Whether ``value`` is within WIDTH_TOLERANCE of ``best`` (relative to |best|)."""
    if not math.isfinite(value):
        return False
    gap = best - value if higher_is_better else value - best
    return gap <= WIDTH_TOLERANCE * abs(best) + 1e-15


def width_decades(
    lrs: Sequence[float], medians: Sequence[float], higher_is_better: bool
) -> float | None:
    """How forgiving an optimizer is: the width in decades (log10 units) of the run of
    neighbouring grid learning rates, around the tuned one, whose median is within 10% of
    the best median. 0 when only the tuned learning rate is; None when there is no best."""
    best_index = tuned_index(medians, higher_is_better)
    if best_index is None:
        return None
    best = medians[best_index]
    low = high = best_index
    while low > 0 and within_tolerance(medians[low - 1], best, higher_is_better):
        low -= 1
    while high < len(medians) - 1 and within_tolerance(medians[high + 1], best, higher_is_better):
        high += 1
    return math.log10(lrs[high]) - math.log10(lrs[low])


def _resamples(seeds: int) -> np.ndarray:
    """(BOOTSTRAP_SAMPLES, seeds) seed indices drawn with replacement, always the same."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    return rng.integers(0, seeds, size=(BOOTSTRAP_SAMPLES, seeds))


def _resampled_medians(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Median of each resample: (entries, seeds) values -> (entries, BOOTSTRAP_SAMPLES)."""
    picked = np.sort(values[:, draws], axis=2)  # (entries, samples, seeds)
    seeds = values.shape[1]
    middle = seeds // 2
    if seeds % 2:
        return picked[:, :, middle]
    low, high = picked[:, :, middle - 1], picked[:, :, middle]
    with np.errstate(invalid="ignore"):
        out = (low + high) / 2
    return np.where(low == high, low, out)


def beat_probabilities(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """P[i, j]: the probability that entry i beats entry j, from (entries, seeds) paired
    values (seed k of every entry started from the same weights and batches).

    Bootstrap over the seeds: each resample draws seeds with replacement, the same draw for
    every entry (the pairing), and compares the entries' medians over it; ties count half.
    The diagonal is 0.5.
    """
    values = np.asarray(values, dtype=np.float64)
    medians = _resampled_medians(values, _resamples(values.shape[1]))
    if higher_is_better:
        medians = -medians
    wins = (medians[:, None, :] < medians[None, :, :]).mean(axis=2)
    ties = (medians[:, None, :] == medians[None, :, :]).mean(axis=2)
    return wins + ties / 2


def win_probabilities(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """P(entry i is the best of all) over the same paired bootstrap; a tie for the best
    splits the resample between the tied entries. Sums to 1."""
    values = np.asarray(values, dtype=np.float64)
    medians = _resampled_medians(values, _resamples(values.shape[1]))
    if higher_is_better:
        medians = -medians
    best = medians.min(axis=0)
    is_best = (medians == best[None, :]).astype(np.float64)
    return (is_best / is_best.sum(axis=0)[None, :]).mean(axis=1)


def verdict(names: Sequence[str], beats: np.ndarray) -> str:
    """One line naming a winner only when it beats every other entry with probability at
    least CLEAR_WIN, else "no clear winner"."""
    if len(names) < 2:
        return "no clear winner (one optimizer)"
    for i, name in enumerate(names):
        others = [beats[i, j] for j in range(len(names)) if j != i]
        if min(others) >= CLEAR_WIN:
            return f"{name} wins: P(beats each other optimizer, tuned) >= {min(others):.2f}"
    return "no clear winner"
