"""Bounded metric histories, and the downsampling and smoothing the charts use.

A :class:`History` holds at most ``capacity`` points in preallocated arrays. When it is
full it keeps three quarters of them, chosen so every part of the race keeps its shape:
half spaced evenly in log(step) (the beginning, where races are decided, keeps as many
points per decade as the end) and half spaced evenly in step (a uniform floor over the
whole race); the first and last points and the lowest and highest loss always stay.
"""

from __future__ import annotations

import math

import numpy as np

from tui_optim.race.messages import HistoryChunk
from tui_optim.race.recorder import POINT_FIELDS

FIELDS = POINT_FIELDS


class History:
    """Points (the :data:`FIELDS` and, for surfaces, the position) of one racer, oldest
    first, in at most ``capacity`` rows."""

    def __init__(self, capacity: int, with_position: bool = False):
        if capacity < 8:
            raise ValueError(f"history capacity must be at least 8, got {capacity}")
        self.capacity = capacity
        self.with_position = with_position
        self._data = np.full((capacity, len(FIELDS)), math.nan)
        self._position = np.full((capacity, 2), math.nan) if with_position else None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, position: tuple[float, float] | None = None, **values: float) -> None:
        """Add one point (the :data:`FIELDS` by name; missing ones are NaN)."""
        if self._size == self.capacity:
            self._decimate()
        self._data[self._size] = [values.get(name, math.nan) for name in FIELDS]
        if self._position is not None:
            self._position[self._size] = position if position is not None else (math.nan,) * 2
        self._size += 1

    def extend(self, chunk: HistoryChunk) -> None:
        """Add the points of a snapshot chunk (vectorised, decimating as often as needed)."""
        columns = np.column_stack([np.asarray(getattr(chunk, name), float) for name in FIELDS])
        positions = None
        if self._position is not None:
            positions = (
                np.full((len(columns), 2), math.nan)
                if chunk.position is None
                else np.asarray(chunk.position, float).reshape(-1, 2)
            )
        start = 0
        while start < len(columns):
            if self._size == self.capacity:
                self._decimate()
            take = min(len(columns) - start, self.capacity - self._size)
            self._data[self._size : self._size + take] = columns[start : start + take]
            if self._position is not None and positions is not None:
                self._position[self._size : self._size + take] = positions[start : start + take]
            self._size += take
            start += take

    def arrays(self) -> dict[str, np.ndarray]:
        """Each field as a read-only array of the stored points, oldest first."""
        out = {}
        for index, name in enumerate(FIELDS):
            view = self._data[: self._size, index]
            view.flags.writeable = False
            out[name] = view
        if self._position is not None:
            position = self._position[: self._size]
            position.flags.writeable = False
            out["position"] = position
        return out

    def _decimate(self) -> None:
        """Keep about three quarters of the points: see the module docstring."""
        keep = keep_shape(self._data[: self._size], (3 * self.capacity) // 4)
        count = len(keep)
        self._data[:count] = self._data[keep]
        self._data[count : self._size] = math.nan
        if self._position is not None:
            self._position[:count] = self._position[keep]
            self._position[count : self._size] = math.nan
        self._size = count


def keep_shape(points: np.ndarray, budget: int) -> np.ndarray:
    """Indices (sorted) of at most about ``budget`` rows of ``points`` (columns as
    :data:`FIELDS`) that keep the race's shape: nearest to ``budget / 2`` targets spaced
    evenly in log(step) and ``budget / 2`` spaced evenly in step, with the first, the last
    and the rows of the lowest and highest loss."""
    count = len(points)
    if count <= budget:
        return np.arange(count)
    steps = points[:, FIELDS.index("step")]
    first, last = float(steps[0]), float(steps[-1])
    half = max(budget // 2, 2)
    uniform = np.linspace(first, last, half)
    logarithmic = np.expm1(np.linspace(np.log1p(max(first, 0.0)), np.log1p(max(last, 0.0)), half))
    targets = np.concatenate([uniform, logarithmic])
    right = np.clip(np.searchsorted(steps, targets), 1, count - 1)
    left = right - 1
    nearest = np.where(targets - steps[left] <= steps[right] - targets, left, right)
    loss = points[:, FIELDS.index("loss")]
    extremes: list[int] = [0, count - 1]
    if np.isfinite(loss).any():
        finite = np.where(np.isfinite(loss), loss, np.nan)
        extremes += [int(np.nanargmin(finite)), int(np.nanargmax(finite))]
    keep = np.unique(np.concatenate([nearest, extremes]))
    if len(keep) >= count:  # targets too close together to thin: halve evenly instead
        keep = np.unique(np.concatenate([np.arange(0, count, 2), extremes]))
    return keep


def downsample_minmax(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * buckets`` points: each bucket's minimum and maximum of ``y``, in x order.

    Spikes stay visible at any zoom. Non-finite y values are ignored in a bucket (a bucket
    with none finite keeps its first point). Short inputs come back unchanged.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(y)
    if buckets < 1 or n <= 2 * buckets:
        return x, y
    edges = np.linspace(0, n, buckets + 1).astype(int)
    starts = edges[:-1]
    sizes = np.diff(edges)
    finite = np.isfinite(y)
    low_values = np.where(finite, y, np.inf)
    high_values = np.where(finite, y, -np.inf)
    lows = np.minimum.reduceat(low_values, starts)
    highs = np.maximum.reduceat(high_values, starts)
    # The first index in each bucket that holds its minimum (maximum); a bucket with no
    # finite value has inf (-inf) everywhere, so that is its first point.
    position = np.arange(n)
    first_low = np.minimum.reduceat(
        np.where(low_values == np.repeat(lows, sizes), position, n), starts
    )
    first_high = np.minimum.reduceat(
        np.where(high_values == np.repeat(highs, sizes), position, n), starts
    )
    earlier = np.minimum(first_low, first_high)
    later = np.maximum(first_low, first_high)
    pairs = np.column_stack([earlier, later])
    keep = np.column_stack([np.ones(buckets, dtype=bool), later != earlier])
    index = pairs[keep]
    return x[index], y[index]


def ema(y: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average ``s = alpha * y + (1 - alpha) * s``, starting at the first
    finite value; NaN/inf are skipped (the average carries over them), and leading
    non-finite values stay as they are.

    The recurrence is the first-order IIR filter ``b = [alpha], a = [1, alpha - 1]``, run by
    :func:`scipy.signal.lfilter` over the finite values (the chart smooths two dozen long
    curves twice a second). SciPy loads on the first call, not with the app.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"ema: alpha must be in [0, 1], got {alpha}")
    y = np.asarray(y, dtype=np.float64)
    out = y.copy()
    is_finite = np.isfinite(y)
    finite = np.flatnonzero(is_finite)
    if finite.size == 0:
        return out
    from scipy.signal import lfilter

    values = y[finite]
    keep = 1.0 - alpha
    # the filter's initial state keep * values[0] makes the first output values[0] itself
    smooth = lfilter([alpha], [1.0, -keep], values, zi=[keep * values[0]])[0]
    out[finite] = smooth
    # after the first finite value, a non-finite one shows the average so far
    last_finite = np.maximum.accumulate(np.where(is_finite, np.arange(len(y)), -1))
    carried = (last_finite >= 0) & ~is_finite
    out[carried] = out[last_finite[carried]]
    return out
