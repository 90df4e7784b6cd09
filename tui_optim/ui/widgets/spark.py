"""Text sparklines: a series drawn with block characters, for cells too small for a widget."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

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


#: The character of a :func:`bar_chart`'s reference line.
LINE = "╌"


@dataclass(frozen=True)
class BarChart:
    """A series as columns of block characters, with a horizontal reference line."""

    rows: tuple[str, ...]  # top row first, plain characters, one per column
    over: tuple[bool, ...]  # per column: its largest value is above the line
    line_row: int | None  # the row the line is drawn in (0 = top); None without a line


def bar_chart(
    values: Sequence[float] | np.ndarray, width: int, height: int, line: float | None = None
) -> BarChart:
    """``values`` (finite ones) squeezed into ``width`` columns, each the largest value of
    its bucket (a series that crosses the line every other point shows every crossing,
    where means would fall under it), drawn as bars ``height`` rows high on a linear scale
    from min(0, lowest) to above the highest value and ``line``, and ``line`` across the
    columns whose bar does not reach it. The scale starts at zero, so a series that hardly
    changes draws as even bars, not as its rounding noise blown up to the full height; the
    line's height against the bars reads as "how far below (or above) the line"; a bar
    above zero is never thinner than the lowest block, so a small one still shows."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    columns = min(width, data.size)
    if columns < 1 or height < 1:
        return BarChart(tuple(" " * max(width, 0) for _ in range(max(height, 0))), (), None)
    edges = np.linspace(0, data.size, columns + 1).astype(int)
    peaks = np.array([data[a:b].max() for a, b in itertools.pairwise(edges)])
    low = min(0.0, float(peaks.min()))
    high = float(peaks.max())
    if line is not None and math.isfinite(line):
        high = max(high, line) * 1.15 if max(high, line) > 0 else max(high, line)
    else:
        line = None
    if not high > low:
        return BarChart(tuple(" " * columns for _ in range(height)), (False,) * columns, None)
    levels = (peaks - low) / (high - low) * height  # bar heights in rows
    line_row = None
    line_level = math.inf
    if line is not None:
        line_level = (line - low) / (high - low) * height
        line_row = height - 1 - min(int(line_level), height - 1)
    rows = []
    for row in range(height):
        from_bottom = height - 1 - row
        cells = []
        for level in levels:
            if row == line_row and level < line_level:
                cells.append(LINE)  # the line runs over every bar that stays below it
                continue
            eighths = round(min(max(level - from_bottom, 0.0), 1.0) * len(BLOCKS))
            if from_bottom == 0 and level > 0:
                eighths = max(eighths, 1)
            cells.append(BLOCKS[eighths - 1] if eighths else " ")
        rows.append("".join(cells))
    over = tuple(bool(m > line) for m in peaks) if line is not None else (False,) * columns
    return BarChart(tuple(rows), over, line_row)
