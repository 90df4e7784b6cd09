"""Statistics of a racer's window of recent losses: the least-squares trend, the reversals
of successive moves, rises and the lowest loss.

:func:`fit_trend` and :func:`reversals` walk one window in plain Python; :func:`window_stats`
gives the same figures, bit for bit, for many windows at once with NumPy (a lockstep
group's racers), which is what makes judging two dozen racers cheap. The diagnosis
(:mod:`tui_optim.race.diagnosis`) reads them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Trend(NamedTuple):
    """Least-squares line through a window of losses."""

    change: float  # fitted change from the first to the last point
    noise: float  # standard deviation of the residuals
    t: float  # slope / its standard error (inf when the fit is exact)
    level: float  # mean of the window


def fit_trend(values: Sequence[float]) -> Trend:
    """The least-squares line through ``values``, one point after another (a single point:
    no change, no noise).

    Every sum is taken left to right, so :func:`window_stats` reproduces it bit for bit
    with NumPy over many windows at once (a last bit can decide a threshold)."""
    n = len(values)
    if n == 1:
        return Trend(0.0, 0.0, 0.0, values[0])
    middle = (n - 1) / 2
    sxx = n * (n * n - 1) / 12  # sum of (i - middle)^2 over i = 0 .. n-1
    total = 0.0
    for v in values:
        total += v
    mean = total / n
    cross = 0.0
    for i, v in enumerate(values):
        cross += (i - middle) * (v - mean)
    slope = cross / sxx
    residual = 0.0
    for i, v in enumerate(values):
        deviation = v - mean - slope * (i - middle)
        residual += deviation * deviation
    return _trend(n, mean, slope, residual)


def _trend(n: int, mean: float, slope: float, residual: float) -> Trend:
    """The line through ``n`` points from its sums: their ``mean``, the fitted ``slope``
    and the sum of the squared residuals."""
    sxx = n * (n * n - 1) / 12
    noise = math.sqrt(residual / max(n - 2, 1))
    error = noise / math.sqrt(sxx)
    scale = max(abs(mean), 1e-300)
    if error <= 1e-12 * scale:
        t = 0.0 if abs(slope) <= 1e-14 * scale else math.copysign(math.inf, slope)
    else:
        t = slope / error
    return Trend(slope * (n - 1), noise, t, mean)


def reversals(moves: Sequence[float | np.ndarray]) -> tuple[int, int]:
    """How many successive pairs of moves point in opposite directions, and of how many."""
    count = total = 0
    for a, b in itertools.pairwise(moves):
        product = a * b if isinstance(a, float) and isinstance(b, float) else float(np.dot(a, b))
        if product == 0:
            continue
        total += 1
        count += product < 0
    return count, total


class WindowStats(NamedTuple):
    """What a judgement needs from a racer's window of losses (see :func:`window_stats`)."""

    length: int  # losses in the window
    first: float  # the oldest (NaN: an empty window)
    low: float  # the lowest but the last (inf: fewer than two)
    rising: int  # successive moves up
    #: Successive pairs of moves in opposite directions, of how many (:func:`reversals`),
    #: and :func:`fit_trend`: only when asked for (else 0, 0 and None).
    flips: int
    pairs: int
    trend: Trend | None


_EMPTY_WINDOW = WindowStats(0, math.nan, math.inf, 0, 0, 0, Trend(0.0, 0.0, 0.0, math.nan))


def window_stats(windows: Sequence[Sequence[float]], trend: bool = True) -> list[WindowStats]:
    """The statistics of many windows of losses, each window's equal to the pure-Python
    :func:`fit_trend` and :func:`reversals` of it, bit for bit; without ``trend``, only its
    length, first and lowest loss and rises.

    Windows of one length (a lockstep group's racers, mostly) are one NumPy pass, so the
    cost per racer is a small fraction of walking its window in Python.
    """
    by_length: dict[int, list[int]] = {}
    for index, window in enumerate(windows):
        by_length.setdefault(len(window), []).append(index)
    stats: list[WindowStats] = [_EMPTY_WINDOW] * len(windows)
    for n, indices in by_length.items():
        if n == 0:
            continue
        chained = itertools.chain.from_iterable(windows[index] for index in indices)
        rows = np.fromiter(chained, np.float64, count=n * len(indices)).reshape(-1, n)
        for index, row_stats in zip(indices, _equal_length_stats(rows, trend), strict=True):
            stats[index] = row_stats
    return stats


def _equal_length_stats(rows: np.ndarray, trend: bool) -> list[WindowStats]:
    """:func:`window_stats` of the windows in ``rows`` (one a row, at least one loss each)."""
    n = rows.shape[1]
    if n == 1:
        return [
            WindowStats(1, v, math.inf, 0, 0, 0, Trend(0.0, 0.0, 0.0, v) if trend else None)
            for v in rows[:, 0].tolist()
        ]
    earlier, later = rows[:, :-1], rows[:, 1:]
    if not trend:
        ends = zip(
            rows[:, 0].tolist(),
            earlier.min(axis=1).tolist(),
            (later > earlier).sum(axis=1).tolist(),
            strict=True,
        )
        return [WindowStats(n, first, low, rising, 0, 0, None) for first, low, rising in ends]
    # fit_trend's sums in its order, each term formed as it forms it: left to right
    # (np.add.accumulate; a reduction would sum pairwise), and "+ 0.0" because a sum
    # started from 0.0 is never -0.0 and an accumulation of negative zeros is. The line
    # from the sums is fit_trend's, per window (_trend).
    offsets = np.arange(n) - (n - 1) / 2
    sxx = n * (n * n - 1) / 12
    with np.errstate(over="ignore", invalid="ignore"):  # as Python's floats: inf, NaN
        mean = (np.add.accumulate(rows, axis=1)[:, -1] + 0.0) / n
        deviations = rows - mean[:, None]
        slope = (np.add.accumulate(offsets * deviations, axis=1)[:, -1] + 0.0) / sxx
        residuals = deviations - slope[:, None] * offsets
        residual = np.add.accumulate(residuals * residuals, axis=1)[:, -1]
        moves = later - earlier
        products = moves[:, :-1] * moves[:, 1:]
        figures = np.array((rows[:, 0], earlier.min(axis=1), mean, slope, residual)).tolist()
        counts = np.array(
            ((later > earlier).sum(axis=1), (products < 0).sum(axis=1), (products != 0).sum(axis=1))
        ).tolist()
    return [
        WindowStats(n, first, low, rising, flips, pairs, _trend(n, level, row_slope, row_residual))
        for first, low, level, row_slope, row_residual, rising, flips, pairs in zip(
            *figures, *counts, strict=True
        )
    ]
