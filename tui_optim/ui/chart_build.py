"""Drawing the loss chart with plotext: a plan in, ANSI text out (no Textual here).

The race screen reads the model into a :class:`ChartPlan` on the event loop (cheap NumPy);
:func:`draw_chart` turns it into the chart's text. It is pure Python and costs a few hundred
milliseconds with two dozen racers, so the app runs it in a child process
(:mod:`tui_optim.ui.chart_process`), and in its own process only in test mode. Keeping this
module free of Textual keeps that child quick to start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui_optim.ui.plotext_private import register_theme, set_figure_size

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Curve:
    """One line to draw: x/y already finite and downsampled, its colour and end label."""

    x: np.ndarray
    y: np.ndarray
    colour: RGB
    faint: bool = False
    label: str = ""
    #: plotext marker: "braille" (the finest), or the racer's glyph when colour is off.
    marker: str = "braille"


@dataclass(frozen=True)
class ChartPlan:
    """What one drawing of the chart shows, taken from the model on the event loop.

    ``theme`` is a plotext theme name and ``theme_spec`` its definition: textual-plotext
    registers themes made from the app's theme in its own process only.
    """

    width: int
    height: int
    theme: str
    theme_spec: tuple[Any, ...] | None
    curves: list[Curve]
    markers: list[tuple[float, float, RGB]]
    title: str
    log_y: bool
    labels: bool = False
    too_small: bool = False


def draw_chart(figure: Any, plan: ChartPlan) -> str:
    """``plan`` drawn on the plotext ``figure`` (see :func:`~.plotext_private.new_figure`),
    cleared first."""
    if plan.theme_spec is not None:
        register_theme(plan.theme, plan.theme_spec)
    figure.clear_figure()
    set_figure_size(figure, plan.width, plan.height)
    figure.theme(plan.theme)
    if plan.too_small:
        return ""
    for curve in plan.curves:
        figure.plot(curve.x.tolist(), curve.y.tolist(), color=curve.colour, marker=curve.marker)
    if plan.labels:
        # Each line named at its last point, so lines stay apart without colour (NO_COLOR);
        # names that would share a row are moved apart, one row each.
        named = [
            curve
            for curve in plan.curves
            if curve.label and not (plan.log_y and float(curve.y[-1]) <= 0)
        ]
        y_span = _span([curve.y[curve.y > 0] if plan.log_y else curve.y for curve in plan.curves])
        ends: list[float | None] = [float(curve.y[-1]) for curve in named]
        if y_span is not None:
            # Rows counted at half the plot's height: plotext's rounding of a label's row
            # can then never bring two apart-placed labels back together.
            heights = [float(curve.y[-1]) for curve in named]
            ends = spread_labels(heights, *y_span, max(1, (plan.height - 5) // 2), plan.log_y)
        for curve, y in zip(named, ends, strict=True):
            if y is None:
                continue  # no free row: its glyph on the cards and in the table names it
            label = curve.label[:12]
            if curve.marker != "braille":
                label = f"{curve.marker} {label}"[:12]
            figure.text(label, float(curve.x[-1]), y, color=curve.colour, alignment="right")
    for x, y, colour in plan.markers:
        figure.scatter([x], [y], color=colour, marker="✖")
    figure.title(plan.title)
    x_span = _span([curve.x for curve in plan.curves])
    if x_span is not None:
        # plotext splits the x range evenly: steps read "2502.2" and "7510"
        figure.xticks(*round_ticks(*x_span, max(2, plan.width // 12)))
    if plan.log_y:
        # After the data: plotext applies the log when it builds.
        figure.yscale("log")
        ys = [curve.y for curve in plan.curves] + [np.array([y]) for _, y, _ in plan.markers]
        y_span = _span([y[y > 0] for y in ys])
        if y_span is not None:
            figure.yticks(*log_ticks(*y_span, max(3, plan.height // 4)))
    else:
        ys = [curve.y for curve in plan.curves] + [np.array([y]) for _, y, _ in plan.markers]
        y_span = _span(ys)
        if y_span is not None:
            # plotext splits the range evenly ("3.5 1.8 0.2 -3.2", "-1507219909.1")
            ticks, labels = round_ticks(*y_span, max(3, plan.height // 4))
            if max(abs(tick) for tick in ticks) >= 1e5:
                labels = [f"{tick:.3g}" for tick in ticks]
            figure.yticks(ticks, labels)
    return str(figure.build())


def spread_labels(
    ends: list[float], low: float, high: float, rows: int, log: bool
) -> list[float | None]:
    """Heights for labels at ``ends`` (data units, ``low``..``high`` over ``rows`` rows) such
    that no two fall on one row: each keeps its row if free, else takes the nearest free
    one (up first); None for a label left without a row (more labels than rows)."""
    if not ends or high <= low or (log and low <= 0):
        return list(ends[:1]) + [None] * (len(ends) - 1) if high <= low else list(ends)

    def to_row(value: float) -> int:
        fraction = (
            (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
            if log
            else (value - low) / (high - low)
        )
        return round(min(1.0, max(0.0, fraction)) * (rows - 1))

    def to_value(row: int) -> float:
        fraction = row / max(1, rows - 1)
        if log:
            return 10 ** (math.log10(low) + fraction * (math.log10(high) - math.log10(low)))
        return low + fraction * (high - low)

    taken: set[int] = set()
    out: list[float | None] = list(ends)
    for index in sorted(range(len(ends)), key=lambda i: ends[i]):
        row = to_row(ends[index])
        if row in taken:
            free = [r for r in range(rows) if r not in taken]
            if not free:
                out[index] = None
                continue
            row = min(free, key=lambda r: (abs(r - row), -r))
            out[index] = to_value(row)
        taken.add(row)
    return out


def _span(arrays: list[np.ndarray]) -> tuple[float, float] | None:
    """The lowest and highest value over ``arrays``; None when all are empty."""
    filled = [values for values in arrays if values.size]
    if not filled:
        return None
    return min(float(v.min()) for v in filled), max(float(v.max()) for v in filled)


def log_ticks(low: float, high: float, count: int) -> tuple[list[float], list[str]]:
    """At most ``count`` ticks for a log axis from ``low`` to ``high`` (both > 0), labelled short.

    Whole decades ("1e-12", "0.01", "1") when the range holds two or more; otherwise
    geometric steps with three significant digits. plotext labels a log axis in fixed point,
    which turns 1e-22 into "0.0000000000000000000".
    """
    top, bottom = math.log10(high), math.log10(low)
    first, last = math.ceil(bottom - 1e-9), math.floor(top + 1e-9)
    if last > first:
        stride = math.ceil((last - first + 1) / count)
        exponents = range(last, first - 1, -stride)
        return [10.0**k for k in exponents], [_decade(k) for k in exponents]
    if high <= low:
        return [low], [f"{low:.3g}"]
    ticks = [float(t) for t in np.geomspace(high, low, count)]
    for digits in range(3, 16):  # the fewest digits that still tell the ticks apart
        labels = [f"{t:.{digits}g}" for t in ticks]
        if len(set(labels)) == len(labels):
            break
    return ticks, labels


def round_ticks(low: float, high: float, count: int) -> tuple[list[float], list[str]]:
    """At most ``count`` ticks between ``low`` and ``high`` at the finest round spacing that
    fits: 1, 2, 2.5 or 5 times a power of ten (steps 25, 50, 75, 100; epochs 0.5, 1.0)."""
    if not high > low:
        return [low], [f"{low:g}"]
    power = 10.0 ** math.floor(math.log10((high - low) / count))
    for spacing in (m * power * scale for scale in (1, 10, 100) for m in (1, 2, 2.5, 5)):
        first = math.ceil(low / spacing - 1e-9)
        last = math.floor(high / spacing + 1e-9)
        if last - first + 1 <= count:  # the finest round spacing that fits
            break
    ticks = [k * spacing for k in range(first, last + 1)]
    decimals = next(d for d in range(16) if abs(round(spacing, d) - spacing) <= spacing * 1e-9)
    return ticks, [f"{tick:.{decimals}f}" for tick in ticks]


def _decade(exponent: int) -> str:
    return f"{10.0**exponent:g}" if -3 <= exponent <= 3 else f"1e{exponent}"
