"""Bounded metric histories, and the downsampling and smoothing the charts use.

A :class:`History` holds at most ``capacity`` points in preallocated arrays. When it is
full, the older half is decimated: neighbouring points are merged in pairs that keep, in
turn, their lower and their higher loss, so both the valleys and the spikes of the old part
survive, and the first point and the global minimum and maximum always do. Recent points
stay at full resolution, so an hour-long race keeps a fixed memory and a sharp recent past.
"""

from __future__ import annotations

import math

import numpy as np

from tui_optim.race.messages import HistoryChunk

FIELDS = (
    "step",
    "epoch",
    "seconds",
    "loss",
    "val_loss",
    "accuracy",
    "grad_norm",
    "update_ratio",
    "grad_evals",
)


class History:
    """Points (step, epoch, seconds, loss, val_loss, accuracy, grad_norm, update_ratio,
    grad_evals[, position]) of one racer, oldest first, in at most ``capacity`` rows."""

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

    def append(
        self,
        step: float,
        epoch: float,
        seconds: float,
        loss: float,
        val_loss: float = math.nan,
        accuracy: float = math.nan,
        grad_norm: float = math.nan,
        update_ratio: float = math.nan,
        grad_evals: float = math.nan,
        position: tuple[float, float] | None = None,
    ) -> None:
        """Add one point."""
        if self._size == self.capacity:
            self._decimate()
        row = (step, epoch, seconds, loss, val_loss, accuracy, grad_norm, update_ratio, grad_evals)
        self._data[self._size] = row
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
        """Halve the older half: pairs keep their min and max loss alternately.

        The first point is kept as it is; a pair holding the global minimum or maximum of
        loss keeps that point whatever its turn.
        """
        half = (self._size // 2) & ~1  # an even count of old points, after the first
        if half < 4:
            return
        old = np.arange(1, 1 + half)
        loss = self._data[old, FIELDS.index("loss")]
        pairs = loss.reshape(-1, 2)
        safe = np.where(np.isfinite(pairs), pairs, np.inf)
        lowest = np.argmin(safe, axis=1)
        highest = np.argmax(np.where(np.isfinite(pairs), pairs, -np.inf), axis=1)
        choose_high = (np.arange(len(pairs)) % 2).astype(bool)
        pick = np.where(choose_high, highest, lowest)
        mask = np.zeros((len(pairs), 2), dtype=bool)
        mask[np.arange(len(pairs)), pick] = True
        all_loss = self._data[: self._size, FIELDS.index("loss")]
        if np.isfinite(all_loss).any():
            finite_loss = np.where(np.isfinite(all_loss), all_loss, np.nan)
            for extreme in (int(np.nanargmin(finite_loss)), int(np.nanargmax(finite_loss))):
                if 1 <= extreme <= half:  # in the old half: keep it whatever its pair's turn
                    mask[(extreme - 1) // 2, (extreme - 1) % 2] = True
        kept = old[mask.reshape(-1)]
        keep = np.concatenate([[0], kept, np.arange(1 + half, self._size)])
        count = len(keep)
        self._data[:count] = self._data[keep]
        self._data[count : self._size] = math.nan
        if self._position is not None:
            self._position[:count] = self._position[keep]
            self._position[count : self._size] = math.nan
        self._size = count


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


#: Points per block of the vectorised EMA, and the largest exponent keep^-t may reach.
EMA_BLOCK = 256
EMA_MAX_EXPONENT = 300.0


def ema(y: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average ``s = alpha * y + (1 - alpha) * s``, starting at the first
    finite value; NaN/inf are skipped (the average carries over them), and leading
    non-finite values stay as they are.

    Vectorised by blocks (the chart smooths two dozen long curves twice a second): within
    a block, ``s[j] = keep^j (keep s_in + alpha cumsum(v[t] keep^-t))`` with ``keep = 1 -
    alpha``, the blocks short enough that ``keep^-t`` stays far from overflow.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"ema: alpha must be in [0, 1], got {alpha}")
    y = np.asarray(y, dtype=np.float64)
    out = y.copy()
    is_finite = np.isfinite(y)
    finite = np.flatnonzero(is_finite)
    if finite.size == 0:
        return out
    values = y[finite]
    smooth = np.empty_like(values)
    keep = 1.0 - alpha
    state = smooth[0] = values[0]
    if keep == 0.0:  # alpha = 1: the latest value only
        smooth[:] = values
    else:
        block = EMA_BLOCK
        if keep < 1.0:
            block = max(1, min(block, int(EMA_MAX_EXPONENT / -math.log(keep))))
        powers = keep ** np.arange(block, dtype=np.float64)
        inverse = np.reciprocal(powers)
        for start in range(1, len(values), block):
            chunk = values[start : start + block]
            count = len(chunk)
            running = np.cumsum(chunk * inverse[:count])
            running *= alpha
            running += keep * state
            running *= powers[:count]
            smooth[start : start + count] = running
            state = running[-1]
    out[finite] = smooth
    # after the first finite value, a non-finite one shows the average so far
    last_finite = np.maximum.accumulate(np.where(is_finite, np.arange(len(y)), -1))
    carried = (last_finite >= 0) & ~is_finite
    out[carried] = out[last_finite[carried]]
    return out
