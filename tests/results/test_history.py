"""Bounded histories keep their extremes; downsampling keeps spikes; EMA is an EMA."""

from __future__ import annotations

import itertools
import math

import numpy as np

from tui_optim.race.messages import HistoryChunk
from tui_optim.results.history import History, downsample_minmax, ema


def chunk(start: int, loss: np.ndarray) -> HistoryChunk:
    n = len(loss)
    steps = np.arange(start, start + n, dtype=float)
    nan = np.full(n, math.nan)
    return HistoryChunk(
        steps, steps / 10, steps / 100, loss, nan, nan, nan, nan, loss * 2, nan, nan, steps
    )


def test_a_million_points_stay_bounded_and_keep_their_extremes() -> None:
    history = History(4000)
    rng = np.random.default_rng(0)
    total = 1_000_000
    losses = rng.uniform(1.0, 2.0, total)
    losses[123_456] = 0.001  # a deep valley long ago
    losses[654_321] = 99.0  # and a spike
    for start in range(0, total, 10_000):
        history.extend(chunk(start, losses[start : start + 10_000]))
        assert len(history) <= 4000
    arrays = history.arrays()
    assert arrays["loss"].min() == 0.001 and arrays["loss"].max() == 99.0
    assert arrays["step"][0] == 0 and arrays["step"][-1] == total - 1
    assert np.all(np.diff(arrays["step"]) > 0)
    # every decade of steps keeps points: the beginning is not thinned to a few lines
    for low in (10, 100, 1_000, 10_000, 100_000):
        inside = (arrays["step"] >= low) & (arrays["step"] < 10 * low)
        assert inside.sum() >= 80, low  # (10..99 has only 90 steps: all kept)


def test_extend_equals_repeated_append() -> None:
    a, b = History(64), History(64)
    losses = np.random.default_rng(2).uniform(size=300)
    a.extend(chunk(0, losses))
    for step, loss in enumerate(losses):
        b.append(
            step=step,
            epoch=step / 10,
            seconds=step / 100,
            loss=loss,
            grad_norm=loss * 2,
            grad_evals=step,
        )
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key], err_msg=key)


def test_positions_follow_their_points() -> None:
    history = History(16, with_position=True)
    for step in range(100):
        history.append(
            step=step, epoch=step, seconds=step, loss=1.0 / (step + 1), position=(step, -step)
        )
    arrays = history.arrays()
    np.testing.assert_array_equal(arrays["position"][:, 0], arrays["step"])


def test_downsampling_keeps_the_spike_and_short_series() -> None:
    x = np.arange(10_000, dtype=float)
    y = np.ones_like(x)
    y[7777] = 50.0
    y[100] = np.nan
    dx, dy = downsample_minmax(x, y, 100)
    assert len(dx) <= 200 and 50.0 in dy and 7777 in dx
    assert np.all(np.diff(dx) > 0)
    short_x, _ = downsample_minmax(x[:50], y[:50], 100)
    assert len(short_x) == 50


def _downsample_by_loop(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[list, list]:
    """The definition, bucket by bucket: the first index of the minimum and of the maximum
    (in x order), or the bucket's first point when it holds no finite value."""
    if len(y) <= 2 * buckets:
        return list(x), list(y)
    edges = np.linspace(0, len(y), buckets + 1).astype(int)
    keep: list[int] = []
    for start, stop in itertools.pairwise(edges):
        finite = [i for i in range(start, stop) if math.isfinite(y[i])]
        if not finite:
            keep.append(int(start))
            continue
        low = min(finite, key=lambda i: (y[i], i))
        high = min(finite, key=lambda i: (-y[i], i))
        keep.extend(sorted({low, high}))
    return [x[i] for i in keep], [y[i] for i in keep]


def test_downsampling_equals_the_bucket_by_bucket_definition() -> None:
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 1500))
        buckets = int(rng.integers(1, 120))
        y = rng.standard_normal(n)
        if trial % 3 == 0:
            y = np.round(y, 1)  # ties: the first of equal values is kept
        u = rng.random(n)
        y[u < 0.05] = np.nan
        y[(u >= 0.05) & (u < 0.07)] = np.inf
        y[(u >= 0.07) & (u < 0.08)] = -np.inf
        if trial % 7 == 0:
            y[: n // 2] = np.nan  # whole buckets with nothing finite
        x = np.arange(n) * 0.5
        dx, dy = downsample_minmax(x, y, buckets)
        ex, ey = _downsample_by_loop(x, y, buckets)
        np.testing.assert_array_equal(dx, ex)
        np.testing.assert_array_equal(dy, ey)


def test_ema_matches_a_plain_loop_and_skips_nan() -> None:
    y = np.array([1.0, 2.0, math.nan, 4.0, 8.0])
    expected, state = [], math.nan
    for value in y:
        if math.isfinite(value):
            state = value if math.isnan(state) else 0.3 * value + 0.7 * state
        expected.append(state)
    np.testing.assert_allclose(ema(y, 0.3), expected)


def _ema_by_loop(y: np.ndarray, alpha: float) -> list[float]:
    expected, state = [], math.nan
    for value in y:
        if math.isfinite(value):
            state = value if math.isnan(state) else alpha * value + (1 - alpha) * state
            expected.append(state)
        else:
            expected.append(value if math.isnan(state) else state)
    return expected


def test_ema_by_blocks_equals_the_recurrence_on_long_series() -> None:
    rng = np.random.default_rng(3)
    for alpha in (0.08, 0.3, 0.9, 0.999, 1.0, 0.0):
        for n in (1, 2, 255, 256, 257, 3000):
            y = np.exp(rng.standard_normal(n) * 3)  # losses over several decades
            u = rng.random(n)
            y[u < 0.05] = np.nan
            y[(u >= 0.05) & (u < 0.06)] = np.inf
            y[: min(n, 3)] = np.nan  # leading non-finite values stay
            np.testing.assert_allclose(ema(y, alpha), _ema_by_loop(y, alpha), rtol=1e-9)


def test_history_fields_are_the_recorders_point_fields() -> None:
    from tui_optim.race.recorder import POINT_FIELDS
    from tui_optim.results.history import FIELDS

    assert FIELDS == POINT_FIELDS
