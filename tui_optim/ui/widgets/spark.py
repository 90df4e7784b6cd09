"""Text sparklines: a series drawn with block characters, for cells too small for a widget."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

BLOCKS = "▁▂▃▄▅▆▇█"


def spark(
    values: Sequence[float] | np.ndarray,
    width: int,
    log: bool = True,
    span: tuple[float, float] | None = None,
) -> str:
    """``values`` squeezed into ``width`` block characters (bucket means; log scale for
    losses). Non-finite values are skipped; an empty series is blank. ``span`` (low, high),
    in the values' units, puts several sparklines on one shared scale; without it the
    series fills the height by itself."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if log:
        data = data[data > 0]
        data = np.log10(data) if data.size else data
    if data.size == 0 or width < 1:
        return " " * max(width, 0)
    edges = np.linspace(0, data.size, min(width, data.size) + 1).astype(int)
    means = np.array([data[a:b].mean() for a, b in itertools.pairwise(edges)])
    if span is not None:
        low, high = (math.log10(v) if log else v for v in span)
    else:
        low, high = float(means.min()), float(means.max())
    span_width = high - low
    if span_width <= 0 or not math.isfinite(span_width):
        return BLOCKS[0] * len(means)
    levels = np.clip(((means - low) / span_width * (len(BLOCKS) - 1)).round().astype(int), 0, 7)
    return "".join(BLOCKS[level] for level in levels)


def shared_span(
    series: Sequence[Sequence[float] | np.ndarray], log: bool = True
) -> tuple[float, float] | None:
    """The (low, high) of every finite (and, on a log scale, positive) value of ``series``:
    the one scale for a set of sparklines."""
    lows, highs = [], []
    for values in series:
        data = np.asarray(values, dtype=float)
        data = data[np.isfinite(data)]
        if log:
            data = data[data > 0]
        if data.size:
            lows.append(float(data.min()))
            highs.append(float(data.max()))
    if not lows:
        return None
    return min(lows), max(highs)
