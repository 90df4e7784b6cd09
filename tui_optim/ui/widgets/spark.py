"""Text sparklines: a series drawn with block characters, for cells too small for a widget."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

BLOCKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float] | np.ndarray, width: int, log: bool = True) -> str:
    """``values`` squeezed into ``width`` block characters (bucket means; log scale for
    losses). Non-finite values are skipped; an empty series is blank."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if log:
        data = data[data > 0]
        data = np.log10(data) if data.size else data
    if data.size == 0 or width < 1:
        return " " * max(width, 0)
    edges = np.linspace(0, data.size, min(width, data.size) + 1).astype(int)
    means = np.array([data[a:b].mean() for a, b in itertools.pairwise(edges)])
    low, high = float(means.min()), float(means.max())
    span = high - low
    if span <= 0 or not math.isfinite(span):
        return BLOCKS[0] * len(means)
    levels = np.clip(((means - low) / span * (len(BLOCKS) - 1)).round().astype(int), 0, 7)
    return "".join(BLOCKS[level] for level in levels)
