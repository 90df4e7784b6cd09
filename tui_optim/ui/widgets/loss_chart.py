"""The overlaid loss chart: every racer's loss curve in its colour (textual-plotext).

Building a plotext figure costs tens of milliseconds (a few hundred with two dozen racers),
so the chart caches the built text and rebuilds only when :meth:`LossChart.redraw` marked it
dirty or its size or theme changed; the race screen calls ``redraw`` at most a few times a
second. The data is read from the model on the event loop (cheap NumPy) into a
:class:`~tui_optim.ui.chart_build.ChartPlan`; plotext draws it in a child process
(:mod:`tui_optim.ui.chart_process`) that a worker thread waits for, so keys are answered
while it works. In test mode it draws in-process, synchronously.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual
from textual_plotext import PlotextPlot

from tui_optim.race.messages import TERMINAL_STATUSES
from tui_optim.ui.chart_build import RGB, ChartPlan, Curve, draw_chart
from tui_optim.ui.chart_process import ChartProcess
from tui_optim.ui.host import Hosted
from tui_optim.ui.plotext_private import plot_theme_name, theme_spec

if TYPE_CHECKING:
    from tui_optim.results.record import RaceRecord

XAxis = Literal["step", "epoch", "seconds", "grad_evals"]
X_AXES: tuple[XAxis, ...] = ("step", "epoch", "seconds", "grad_evals")
#: How the title names an axis (a history field otherwise).
X_TITLES = {"grad_evals": "gradient evaluations", "seconds": "training seconds"}
#: Upper bound on points per drawn line (min/max buckets keep spikes).
MAX_POINTS = 300
#: EMA smoothing factor (weight of the newest point).
EMA_ALPHA = 0.08
#: Lines are named at their ends only up to this many (beyond that the labels collide).
MAX_LABELS = 12


class _Drawing(NamedTuple):
    """One build of the chart."""

    content: Content  # the text, for render()
    strips: list[Strip]  # the painted lines


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


class LossChart(Hosted, PlotextPlot):
    """Loss against step/epoch/seconds/gradient evaluations (L-BFGS and SAM evaluate the
    gradient more than once per step), log y by default, optional EMA smoothing."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._building = False
        self.x_axis: XAxis = "step"
        self.log_y = True
        self.smoothing = False
        self._model: RaceRecord | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._cached: _Drawing | None = None
        self._dirty = True
        self.last_build_seconds = 0.0
        self._planned_version = -1
        self._builder = ChartProcess()

    # ------------------------------------------------------------------ public
    @property
    def synchronous(self) -> bool:
        """Draw on the event loop (test mode: a snapshot must never catch a build half-way)."""
        return self.host.test_mode

    def redraw(self, model: RaceRecord) -> None:
        """Rebuild the chart from ``model``: in the background, or on the next render when
        synchronous."""
        self._model = model
        self._changed()

    def shows(self, version: int) -> bool:
        """True when the chart on screen was built from model ``version``."""
        return (
            self._planned_version == version
            and not self._dirty
            and not self._building
            and self._cached is not None
        )

    def cycle_x_axis(self) -> XAxis:
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self._changed()
        return self.x_axis

    def toggle_log(self) -> bool:
        self.log_y = not self.log_y
        self._changed()
        return self.log_y

    def toggle_smoothing(self) -> bool:
        self.smoothing = not self.smoothing
        self._changed()
        return self.smoothing

    # ------------------------------------------------------------------ render
    def _changed(self) -> None:
        """The chart on screen is out of date: build it again."""
        self._dirty = True
        if self.synchronous:
            self.refresh()
        else:
            # Not refresh(): that would render the old chart again, a few milliseconds of
            # the event loop for nothing; the new one is shown when its build arrives.
            self._build_if_stale()

    def _build_if_stale(self) -> None:
        """Start a background build when the cached chart is stale and none is running."""
        key = (self.size.width, self.size.height, self.app.theme)
        stale = self._dirty or key != self._cache_key or self._cached is None
        if stale and not self._building:
            self._dirty = False
            self._cache_key = key
            plan = self._plan()
            style = self.visual_style
            if self.synchronous:
                self._cached = self._timed_draw(plan, style)
            else:
                self._building = True
                self.run_worker(
                    lambda: self._draw_in_thread(plan, style), thread=True, group="chart-build"
                )

    def render(self) -> RenderResult:
        """The chart as text (what a text selection or a test reads; painting uses
        :meth:`render_line`)."""
        self._build_if_stale()
        return self._cached.content if self._cached is not None else Content("")

    def render_lines(self, crop: Region) -> list[Strip]:
        self._build_if_stale()  # a new size or theme: checked once a paint, not once a line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, style = self.size.width, self.visual_style.rich_style
        if self._cached is None or y >= len(self._cached.strips):
            return Strip.blank(width, style)
        # The width differs only between a resize and the build it starts.
        return self._cached.strips[y].adjust_cell_length(width, style)

    def _draw_in_thread(self, plan: ChartPlan, style: VisualStyle) -> None:
        """Worker thread: waits for the chart process (the interpreter lock stays free for
        the event loop); if that process is gone, draws here instead."""
        started = time.perf_counter()
        try:
            ansi = self._builder.build(plan)
        except (OSError, EOFError, ValueError):
            if not self.is_attached:
                return  # closing: the process was stopped under the build
            ansi = draw_chart(self.plt, plan)
        drawing = self._drawing(ansi, plan, style)
        self.last_build_seconds = time.perf_counter() - started
        self.app.call_from_thread(self._drawn, drawing)

    def _drawn(self, drawing: _Drawing) -> None:
        self._cached = drawing
        self._building = False
        self.refresh()  # shows it, and starts the next build if the chart went stale

    def _timed_draw(self, plan: ChartPlan, style: VisualStyle) -> _Drawing:
        started = time.perf_counter()
        drawing = self._drawing(draw_chart(self.plt, plan), plan, style)
        self.last_build_seconds = time.perf_counter() - started
        return drawing

    def _drawing(self, ansi: str, plan: ChartPlan, style: VisualStyle) -> _Drawing:
        # Converted to lines once per build, in the worker thread when there is one: two
        # dozen curves take the event loop milliseconds to convert, tens when it is busy.
        content = Content.from_rich_text(Text.from_ansi(ansi), console=self.app.console)
        strips = Visual.to_strips(self, content, plan.width, plan.height, style)
        return _Drawing(content, strips)

    def on_unmount(self) -> None:
        self._builder.close()

    def _plan(self) -> ChartPlan:
        """Everything the drawing needs, read from the model now (on the event loop)."""
        width, height = self.size.width, self.size.height
        self._planned_version = self._model.version if self._model is not None else -1
        theme = plot_theme_name(self, self.app.theme)
        spec = theme_spec(theme)
        if width < 10 or height < 4:
            return ChartPlan(width, height, theme, spec, [], [], "", False, too_small=True)
        # One min/max bucket per character column: its two points land on the column's two
        # braille dot columns, so nothing visible is lost, and plotext (whose cost grows
        # with the points) stays fast with two dozen racers.
        curves, markers = self._curves(self._model, buckets=min(MAX_POINTS, max(20, width)))
        if not curves:
            return ChartPlan(width, height, theme, spec, [], [], "loss — waiting for data", False)
        all_y = np.concatenate([c.y for c in curves])
        # A negative value (a surface's height) rules a log axis out. An exact zero (a
        # cross-entropy that underflowed) has no place on one either, but says nothing
        # against the rest of the curve: it is left out, and the title says so.
        log_possible = bool(np.any(all_y > 0)) and not bool(np.any(all_y < 0))
        use_log = self.log_y and log_possible
        scale = "log" if use_log else "linear"
        # why the y axis is linear although log was asked for: said next to the y scale
        # which values rule log out: "values ≤ 0" reads as "all of them" over an axis up to +2
        why_linear = (
            ""
            if use_log or not self.log_y
            else ": some values < 0"
            if np.any(all_y < 0)
            else ": no values > 0"
        )
        if use_log and bool(np.any(all_y == 0)):
            curves = [curve for curve in map(_positive, curves) if curve.y.size]
            markers = [marker for marker in markers if marker[1] > 0]
            note = ", zeros not drawn"
        else:
            note = ""
        smooth = ", EMA" if self.smoothing else ""
        x_title = X_TITLES.get(self.x_axis, self.x_axis)
        quantity = "f" if self._model is not None and self._model.is_surface else "loss"
        title = f"{quantity} ({scale}{why_linear}{smooth}) vs {x_title}{note}"
        labels = width >= 50 and sum(1 for c in curves if c.label) <= MAX_LABELS
        return ChartPlan(width, height, theme, spec, curves, markers, title, use_log, labels=labels)

    def _curves(
        self, model: RaceRecord | None, buckets: int
    ) -> tuple[list[Curve], list[tuple[float, float, RGB]]]:
        """Lines (faint raw behind smoothed) and the last finite point of diverged racers."""
        from tui_optim.results.history import downsample_minmax, ema

        if model is None:
            return [], []
        from tui_optim.ui import format as fmt

        surface = self.app.theme_variables.get("surface", "#000000")
        background = Color.parse(surface)
        glyphs = {rid: fmt.racer_glyph(index) for index, rid in enumerate(model.racer_ids())}
        no_colour = fmt.colour_off()
        faint_curves: list[Curve] = []
        curves: list[Curve] = []
        markers: list[tuple[float, float, RGB]] = []
        for name, colour, x, y, diverged, labelled, rid in self._series(model):
            name = name if labelled else ""
            colour = fmt.readable(colour, surface)
            # Without colour each line is drawn in its racer's glyph, finer braille otherwise.
            marker = glyphs.get(rid, "braille") if no_colour and labelled else "braille"
            x, y = _finite(x, y)
            if x.size == 0:
                continue
            if diverged:
                markers.append((float(x[-1]), float(y[-1]), _rgb(Color.parse(colour))))
            if self.smoothing:
                faint = Color.parse(colour).blend(background, 0.65)
                fx, fy = downsample_minmax(x, y, buckets)
                faint_curves.append(Curve(fx, fy, _rgb(faint), faint=True))
                y = ema(y, EMA_ALPHA)
            dx, dy = downsample_minmax(x, y, buckets)
            # A diverged line ends in a ✖ instead of its name (the name would cover it).
            curves.append(
                Curve(
                    dx,
                    dy,
                    _rgb(Color.parse(colour)),
                    label="" if diverged else name,
                    marker=marker,
                )
            )
        return faint_curves + curves, markers

    def _series(
        self, model: RaceRecord
    ) -> list[tuple[str, str, np.ndarray, np.ndarray, bool, bool, int]]:
        """(name, colour, x, y, diverged, labelled, racer id) per line; repeats become mean and
        band (+- one standard deviation), or for a sweep's tuned race (the scenario's
        ``repeat_band == "iqr"``) median and interquartile band."""
        scenario = self.host.scenario
        quartiles = scenario is not None and scenario.repeat_band == "iqr"
        groups: dict[str, list[int]] = {}
        for rid, spec in model.specs.items():
            groups.setdefault(spec.name, []).append(rid)
        series = []
        for name, ids in groups.items():
            spec = model.specs[ids[0]]
            diverged = any(model.status(r) in TERMINAL_STATUSES for r in ids)
            arrays = [model.histories[r].arrays() for r in ids if r in model.histories]
            if not arrays:
                continue
            if len(arrays) == 1:
                x, y = arrays[0][self.x_axis], arrays[0]["loss"]
                series.append((name, spec.colour, x, y, diverged, True, ids[0]))
                continue
            n = min(len(a["loss"]) for a in arrays)
            if n == 0:
                continue
            stack = np.vstack([a["loss"][:n] for a in arrays])
            x = arrays[0][self.x_axis][:n]
            band = Color.parse(spec.colour).blend(Color.parse("#808080"), 0.5).hex
            if quartiles:
                low, middle, high = repeat_quartiles(stack)
                series.append((name, spec.colour, x, middle, diverged, True, ids[0]))
                series.append((f"{name} q75", band, x, high, False, False, ids[0]))
                series.append((f"{name} q25", band, x, low, False, False, ids[0]))
                continue
            with np.errstate(all="ignore"):
                mean = np.nanmean(stack, axis=0) if np.isfinite(stack).any() else stack[0]
                spread = np.nanstd(stack, axis=0)
            series.append((name, spec.colour, x, mean, diverged, True, ids[0]))
            series.append((f"{name} +sd", band, x, mean + spread, False, False, ids[0]))
            series.append((f"{name} -sd", band, x, mean - spread, False, False, ids[0]))
        return series


def repeat_quartiles(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q25, median and q75 over the repeats (rows) of a (repeats, points) loss stack, at
    each point; NaN (a diverged repeat's end) is left out."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN
        low, middle, high = np.nanpercentile(stack, [25.0, 50.0, 75.0], axis=0)
    return low, middle, high


def _positive(curve: Curve) -> Curve:
    """The curve without its points at or below zero (for a log axis)."""
    keep = curve.y > 0
    return dataclasses.replace(curve, x=curve.x[keep], y=curve.y[keep])


def _rgb(colour: Color) -> RGB:
    return (colour.r, colour.g, colour.b)
