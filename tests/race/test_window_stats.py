"""A group's window statistics, computed at once with NumPy, are each racer's own, bit for bit.

The recorder judges a lockstep group's racers together (diagnosis.judge over
window_stats); a lone monitor (HealthMonitor.observe) reads the same statistics. They must
be the pure-Python fit_trend and reversals of each window exactly: a last bit can decide a
threshold, and then a badge.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tui_optim.race.diagnosis import HealthMonitor, HealthSettings, Observation, judge
from tui_optim.race.window_stats import Trend, WindowStats, fit_trend, reversals, window_stats


def reference(window: list[float]) -> WindowStats:
    """A window's statistics, one loss after another in plain Python."""
    moves = [b - a for a, b in itertools.pairwise(window)]
    flips, pairs = reversals(moves)
    return WindowStats(
        length=len(window),
        first=window[0],
        low=min(window[:-1], default=math.inf),
        rising=sum(b > a for a, b in itertools.pairwise(window)),
        flips=flips,
        pairs=pairs,
        trend=fit_trend(window),
    )


def bits(stats: WindowStats) -> tuple[object, ...]:
    """Every figure exactly: floats by their bits (so 0.0 and -0.0 differ), counts as ints;
    but the lowest loss by value (of 0.0 and -0.0, either is the minimum, and Python's min
    takes the first)."""

    def exact(value: object) -> object:
        return value.hex() if isinstance(value, float) else value

    figures = stats._replace(low=abs(stats.low) if stats.low == 0 else stats.low)
    return (*map(exact, figures[:-1]), *map(exact, stats.trend or ()))


def windows() -> list[list[float]]:
    rng = np.random.default_rng(14)
    found: list[list[float]] = []
    for _ in range(300):  # falling, noisy curves of every length a window has, at many scales
        n = int(rng.integers(1, 21))
        scale = 10.0 ** rng.uniform(-12, 6)
        curve = np.exp(-rng.uniform(0, 0.3) * np.arange(n)) + rng.normal(0, 0.05, n)
        found.append((scale * curve).tolist())
    for _ in range(50):  # negative losses (log-likelihoods), no NaN
        n = int(rng.integers(2, 21))
        found.append((-rng.uniform(0.1, 5.0) + rng.normal(0, 0.3, n)).tolist())
    found += [
        [0.1] * 20,  # constant: no noise, no trend
        [0.1] * 7,  # constant and shorter than a window
        [-0.3] * 12,
        [0.0] * 20,
        [-0.0] * 20,  # a sum of negative zeros is -0.0, a sum from 0.0 is not
        [-0.0, 0.0] * 10,
        [0.0] * 10 + [-0.0] * 10,  # every term of the slope's sum -0.0
        [0.5],
        [0.5, 0.25],
        [1.0, 2.0, 2.0, 1.0, 1.0, 3.0],  # repeated losses: moves of zero pair with nothing
        [0.5 + (0.1 if i % 2 else -0.1) for i in range(20)],  # a perfect zigzag
        [1e-300 * (i + 1) for i in range(20)],  # subnormal moves
        [1e200 * (1 + 0.01 * i) for i in range(20)],
        [1.0 - 1e-17 * i for i in range(20)],  # below one ulp of the level
    ]
    return found


def test_group_statistics_are_the_pure_python_ones_bit_for_bit() -> None:
    found = windows()
    # shuffled, so windows of one length are computed together wherever they stand
    order = np.random.default_rng(1).permutation(len(found))
    shuffled = [found[i] for i in order]
    for window, stats in zip(shuffled, window_stats(shuffled), strict=True):
        assert bits(stats) == bits(reference(window)), window
    # without the trend (a problem judged by its positions): the ends, lowest loss and rises
    for window, stats in zip(shuffled, window_stats(shuffled, trend=False), strict=True):
        expected = reference(window)._replace(flips=0, pairs=0, trend=None)
        assert bits(stats) == bits(expected), window


def test_the_statistics_name_what_a_reason_prints() -> None:
    (stats,) = window_stats([[4.0, 3.0, 3.5, 2.0, 2.5]])
    assert stats.length == 5 and stats.first == 4.0 and stats.low == 2.0
    assert (stats.rising, stats.flips, stats.pairs) == (2, 3, 3)
    expected = Trend(change=-1.6, noise=math.sqrt(0.3), t=-0.4 / math.sqrt(0.03), level=3.0)
    assert tuple(stats.trend) == pytest.approx(tuple(expected), rel=1e-12)


def test_an_empty_window_has_no_statistics_to_read() -> None:
    (stats,) = window_stats([[]])
    assert stats.length == 0 and math.isnan(stats.first)


def curves() -> list[list[float]]:
    """Losses of racers in one group: falling, stalling, oscillating, rising, reaching the
    target, blowing up."""
    rng = np.random.default_rng(3)
    epochs = np.arange(120)
    return [
        (np.exp(-0.05 * epochs) + 0.2).tolist(),
        (1.0 - 0.01 * np.minimum(epochs, 30) + rng.normal(0, 1e-4, 120)).tolist(),
        (0.5 + 0.2 * (-1.0) ** epochs).tolist(),
        (0.4 + np.where(epochs > 40, 0.02 * (epochs - 40), 0.0)).tolist(),
        (np.exp(-0.04 * epochs)).tolist(),
        [*np.linspace(1.0, 0.5, 60).tolist(), math.inf, *[1.0] * 59],
    ]


@pytest.mark.parametrize("target", [None, 0.05])
def test_judging_a_group_together_gives_each_racer_its_own_verdicts(target: float | None) -> None:
    settings = HealthSettings(classify_every=4, confirm=2)
    losses = curves()
    alone = [HealthMonitor(target, settings=settings) for _ in losses]
    grouped = [HealthMonitor(target, settings=settings) for _ in losses]
    verdicts_alone: list[list[str]] = [[] for _ in losses]
    verdicts_grouped: list[list[str]] = [[] for _ in losses]
    for epoch in range(len(losses[0])):
        finite = [curve[epoch] for curve in losses if math.isfinite(curve[epoch])]
        observations = [
            Observation(
                step=epoch * 4,
                epoch=float(epoch),
                seconds=0.0,
                loss=curve[epoch],
                grad_norm=1.0,
                update_norm=1e-3,
                param_norm=1.0,
                effective_step=1e-3,
                leader_loss=min(finite),
            )
            for curve in losses
        ]
        for row, (monitor, obs) in enumerate(zip(alone, observations, strict=True)):
            verdict = monitor.observe(obs)
            if verdict is not None:
                verdicts_alone[row].append(f"{verdict.status}: {verdict.reason}")
        due = [
            row
            for row, (monitor, obs) in enumerate(zip(grouped, observations, strict=True))
            if monitor.record(obs.epoch, obs.loss, obs.position, obs.grad_norm, obs.effective_step)
        ]
        entries = [(grouped[row], observations[row]) for row in due]
        for row, verdict in zip(due, judge(entries), strict=True):
            if verdict is not None:
                verdicts_grouped[row].append(f"{verdict.status}: {verdict.reason}")
    assert verdicts_grouped == verdicts_alone
    statuses = {verdict.split(":")[0] for racer in verdicts_alone for verdict in racer}
    assert len(statuses) >= 3, verdicts_alone  # the curves exercise several rules
