"""Bounded histories keep their extremes; downsampling keeps spikes; EMA is an EMA."""

from __future__ import annotations

import math

import numpy as np

from tui_optim.engine.history import History, downsample_minmax, ema
from tui_optim.engine.messages import HistoryChunk


def chunk(start: int, loss: np.ndarray) -> HistoryChunk:
    n = len(loss)
    steps = np.arange(start, start + n, dtype=float)
    nan = np.full(n, math.nan)
    return HistoryChunk(steps, steps / 10, steps / 100, loss, nan, nan, loss * 2, nan)


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
    # the recent past is kept at full resolution
    assert np.array_equal(arrays["step"][-100:], np.arange(total - 100, total))


def test_extend_equals_repeated_append() -> None:
    a, b = History(64), History(64)
    losses = np.random.default_rng(2).uniform(size=300)
    a.extend(chunk(0, losses))
    for step, loss in enumerate(losses):
        b.append(step, step / 10, step / 100, loss, grad_norm=loss * 2)
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key], err_msg=key)


def test_positions_follow_their_points() -> None:
    history = History(16, with_position=True)
    for step in range(100):
        history.append(step, step, step, 1.0 / (step + 1), position=(step, -step))
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


def test_ema_matches_a_plain_loop_and_skips_nan() -> None:
    y = np.array([1.0, 2.0, math.nan, 4.0, 8.0])
    expected, state = [], math.nan
    for value in y:
        if math.isfinite(value):
            state = value if math.isnan(state) else 0.3 * value + 0.7 * state
        expected.append(state)
    np.testing.assert_allclose(ema(y, 0.3), expected)
