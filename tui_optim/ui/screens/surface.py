"""The surface view: a 2-D loss surface shaded in half blocks, with every racer's path.

Paths are lines of dots with the racer's own glyph at each step (told apart without
colour); marks sit on a backing that keeps their colour visible on any shade. The view
follows the paths until the user zooms or pans. The inspector (i) shows the selected racer's
step: gradient, update and momentum as arrows, its optimizer's state in numbers.

Each terminal cell shows two samples of the surface (``▀``: the upper one as foreground,
the lower one as background), shaded on a log scale so basins and ridges both show. The
shading is computed once per size, zoom and pan; paths, positions, the start and the known
minima are drawn over it on every update.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.widgets import Footer, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.screens.view import SizedStatic, ViewScreen
from tui_optim.ui.step_inspector import STATE_LABELS, StepInspection, inspect_step

if TYPE_CHECKING:
    from tui_optim.race.messages import RacerSpec
    from tui_optim.results.record import RaceRecord
    from tui_optim.ui.host import AppHost

#: Low to high: deep blue basins, teal slopes, yellow peaks.
GRADIENT = ((12, 20, 69), (30, 90, 140), (40, 160, 140), (150, 200, 80), (250, 230, 90))
PAN = 0.1
MARKS = {"start": "◇", "minimum": "✚", "line": "·"}
#: The heatmap without colour (NO_COLOR): low to high, each a fifth of the view's cells.
SHADES = " ░▒▓█"
#: Inspector arrows: what, glyph colour, and the legend's name for it.
ARROWS = {"gradient": "#ff6e6e", "update": "#ffffff", "momentum": "#6ee7ff"}
#: Heads of an arrow by direction (counter-clockwise from east, in eighths of a turn).
HEADS = "→↗↑↖←↙↓↘"
#: Cells an inspector arrow spans (directions, not lengths: the numbers are in the panel).
ARROW_CELLS = 5
#: A fitted view spans at least this fraction of the surface's bounds.
MIN_FIT = 0.08


glyph = fmt.racer_glyph


def shades(rgb: np.ndarray) -> list[str]:
    """The heatmap rows (``rgb``: 2 samples per cell row, as drawn with ``▀``) as shade
    characters, for terminals without colour: each cell's brightness ranked in the view, so
    the basins and ridges show whatever the range of values."""
    brightness = rgb.astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    cells = (brightness[0::2] + brightness[1::2]) / 2
    edges = np.quantile(cells, np.linspace(0, 1, len(SHADES) + 1)[1:-1])
    levels = np.digitize(cells, edges)
    return ["".join(SHADES[level] for level in row) for row in levels]


def backing(colour: str) -> str:
    """A background that a mark in ``colour`` stands out on, whatever the shading under it:
    near-black for a light colour, near-white for a dark one."""
    from textual.color import Color

    return "#101010" if Color.parse(colour).brightness > 0.45 else "#f0f0f0"


def shade(values: np.ndarray) -> np.ndarray:
    """(h, w) values -> (h, w, 3) RGB on a log scale of (value - min)."""
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros((*values.shape, 3), dtype=np.uint8)
    low = values[finite].min()
    lifted = np.log1p(
        np.where(finite, values - low, 0.0) / max(np.ptp(values[finite]), 1e-12) * 100.0
    )
    level = lifted / max(lifted.max(), 1e-12) * (len(GRADIENT) - 1)
    index = np.clip(np.floor(level).astype(int), 0, len(GRADIENT) - 2)
    fraction = (level - index)[..., None]
    colours = np.array(GRADIENT, dtype=float)
    rgb = colours[index] * (1 - fraction) + colours[index + 1] * fraction
    rgb[~finite] = (90, 0, 0)
    return rgb.astype(np.uint8)


def racer_path(model: RaceRecord, racer: int) -> np.ndarray:
    """The racer's points so far, ``(k + 1, 2)``: the start, then after each step (a
    history point's position is where it was evaluated, after its step)."""
    history = model.histories.get(racer)
    points = np.empty((0, 2))
    if history is not None:
        arrays = history.arrays()
        if "position" in arrays:
            points = arrays["position"]
    stats = model.stats.get(racer)
    position = stats.position if stats is not None else None
    if position is not None and (not len(points) or tuple(points[-1]) != tuple(position)):
        points = np.vstack([points, [position]])
    start = _start_of(model, racer)
    if start is not None:
        points = np.vstack([[start], points])
    return points[np.isfinite(points).all(axis=1)]


def _start_of(model: RaceRecord, racer: int) -> tuple[float, float] | None:
    """Where the racer started: its own start, else its surface's default."""
    from tui_optim.engine.surfaces import get_surface

    spec = model.specs.get(racer)
    if spec is not None and spec.start is not None:
        return spec.start
    started = model.started
    if started is None or started.problem.surface is None:
        return None
    return get_surface(started.problem.surface).default_start


class SurfacePlot(SizedStatic):
    """The shaded surface with the racers' paths drawn on it (and the inspector's arrows)."""

    DEFAULT_CSS = "SurfacePlot { width: 1fr; height: 1fr; }"

    def __init__(
        self, surface_name: str, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        from tui_optim.engine.surfaces import get_surface

        self.surface = get_surface(surface_name)
        x0, x1, y0, y1 = self.surface.bounds
        self.view: tuple[float, float, float, float] = (x0, x1, y0, y1)
        #: Follow the paths (until the user zooms or pans; the fit key turns it back on).
        self.fitting = True
        self._background: tuple[tuple[int, int, float, float, float, float], np.ndarray] | None
        self._background = None

    # ---------------------------------------------------------------- view changes
    def zoom(self, factor: float, centre: tuple[float, float] | None = None) -> None:
        """Zoom by ``factor`` about ``centre`` (default: the view's centre)."""
        x0, x1, y0, y1 = self.view
        cx, cy = centre if centre is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
        hw, hh = (x1 - x0) / 2 * factor, (y1 - y0) / 2 * factor
        self.view = (cx - hw, cx + hw, cy - hh, cy + hh)
        self.fitting = False

    def pan(self, dx: float, dy: float) -> None:
        x0, x1, y0, y1 = self.view
        sx, sy = (x1 - x0) * dx, (y1 - y0) * dy
        self.view = (x0 + sx, x1 + sx, y0 + sy, y1 + sy)
        self.fitting = False

    def reset(self) -> None:
        x0, x1, y0, y1 = self.surface.bounds
        self.view = (x0, x1, y0, y1)
        self.fitting = False

    def fit(self, points: np.ndarray) -> None:
        """A view around ``points`` (n, 2) with a margin, at least MIN_FIT of the bounds."""
        bx0, bx1, by0, by1 = self.surface.bounds
        if len(points) == 0:
            self.view = (bx0, bx1, by0, by1)
            return
        low, high = points.min(axis=0), points.max(axis=0)
        centre = (low + high) / 2
        half = np.maximum((high - low) / 2 * 1.3, [(bx1 - bx0) * MIN_FIT, (by1 - by0) * MIN_FIT])
        self.view = (
            float(centre[0] - half[0]),
            float(centre[0] + half[0]),
            float(centre[1] - half[1]),
            float(centre[1] + half[1]),
        )

    # ---------------------------------------------------------------- drawing
    def _shading(self, width: int, height: int) -> np.ndarray:
        key = (width, height, *self.view)
        if self._background is None or self._background[0] != key:
            x0, x1, y0, y1 = self.view
            xs = np.linspace(x0, x1, width)
            ys = np.linspace(y1, y0, 2 * height)  # top row = largest y
            self._background = (key, shade(self.surface.grid(xs, ys)))
        return self._background[1]

    def cell_of(self, x: float, y: float, width: int, height: int) -> tuple[int, int] | None:
        """The (row, column) of point (x, y), or None outside the view."""
        x0, x1, y0, y1 = self.view
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        column = round((x - x0) / (x1 - x0) * (width - 1))
        row = int((y1 - y) / (y1 - y0) * (2 * height - 1)) // 2
        if 0 <= column < width and 0 <= row < height:
            return row, column
        return None

    def _fractional_cell(self, x: float, y: float, width: int, height: int) -> tuple[float, float]:
        x0, x1, y0, y1 = self.view
        return (y1 - y) / (y1 - y0) * (height - 0.5), (x - x0) / (x1 - x0) * (width - 1)

    def draw(
        self,
        model: RaceRecord,
        selected: int | None = None,
        arrows: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Paths as lines of dots with each racer's glyph at its points; the selected
        racer's inspector ``arrows`` (name -> direction) from its position."""
        width, height = max(self.size.width, 10), max(self.size.height, 5)
        paths = {rid: racer_path(model, rid) for rid in model.specs}
        if self.fitting:
            everything = [p for p in paths.values() if len(p)]
            self.fit(np.vstack(everything) if everything else np.empty((0, 2)))
        rgb = self._shading(width, height)
        # cell -> (character, colour, priority): the higher priority wins a shared cell
        marks: dict[tuple[int, int], tuple[str, str, int]] = {}

        def put(cell: tuple[int, int] | None, char: str, colour: str, priority: int) -> None:
            if cell is not None and priority >= marks.get(cell, ("", "", -1))[2]:
                marks[cell] = (char, colour, priority)

        for index, (rid, spec) in enumerate(model.specs.items()):
            points = paths[rid]
            racer_glyph = glyph(index)
            cells = [self.cell_of(x, y, width, height) for x, y in points.tolist()]
            for a, b in itertools.pairwise(points.tolist()):
                for dot in self._segment(a, b, width, height):
                    put(dot, MARKS["line"], spec.colour, 0)
            for cell in cells[1:-1]:
                put(cell, racer_glyph, spec.colour, 1)
            if cells:
                put(cells[0], MARKS["start"], spec.colour, 2)
                put(cells[-1], racer_glyph, spec.colour, 4 if rid == selected else 3)
        for minimum in self.surface.minima:
            put(self.cell_of(*minimum, width, height), MARKS["minimum"], "#ffffff", 2)
        if arrows and selected is not None and len(paths.get(selected, ())):
            here = paths[selected][-1]
            for name, direction in arrows.items():
                self._arrow(here, direction, ARROWS[name], width, height, put)
        text = Text(no_wrap=True, overflow="crop")
        monochrome = shades(rgb) if fmt.colour_off() else None
        for row in range(height):
            upper, lower = rgb[2 * row], rgb[2 * row + 1]
            for column in range(width):
                mark = marks.get((row, column))
                bottom = "#{:02x}{:02x}{:02x}".format(*lower[column])
                if mark is None and monochrome is not None:
                    text.append(monochrome[row][column])
                elif mark is None:
                    top = "#{:02x}{:02x}{:02x}".format(*upper[column])
                    text.append("▀", Style(color=top, bgcolor=bottom))
                else:
                    char, colour, _ = mark
                    text.append(char, Style(color=colour, bgcolor=backing(colour), bold=True))
            if row < height - 1:
                text.append("\n")
        self.update(text)

    def _segment(
        self, a: list[float], b: list[float], width: int, height: int
    ) -> list[tuple[int, int]]:
        """The cells on the straight line from point ``a`` to ``b`` (ends excluded)."""
        ra, ca = self._fractional_cell(a[0], a[1], width, height)
        rb, cb = self._fractional_cell(b[0], b[1], width, height)
        if not all(map(math.isfinite, (ra, ca, rb, cb))):
            return []
        count = int(min(4 * (width + height), max(abs(rb - ra), abs(cb - ca))))
        cells = []
        for step in range(1, count):
            t = step / count
            row, column = round(ra + (rb - ra) * t), round(ca + (cb - ca) * t)
            if 0 <= row < height and 0 <= column < width:
                cells.append((row, column))
        return cells

    def _arrow(
        self,
        origin: np.ndarray,
        direction: np.ndarray,
        colour: str,
        width: int,
        height: int,
        put: Any,
    ) -> None:
        """ARROW_CELLS cells from ``origin`` along ``direction`` (screen aspect), a head at
        the end pointing its way."""
        start = self.cell_of(float(origin[0]), float(origin[1]), width, height)
        x0, x1, y0, y1 = self.view
        # direction in cells: x right, y up (rows grow downwards)
        dc = float(direction[0]) / (x1 - x0) * width
        dr = float(direction[1]) / (y1 - y0) * height
        length = math.hypot(dc, dr)
        if start is None or not math.isfinite(length) or length == 0:
            return
        dc, dr = dc / length, dr / length
        angle = math.atan2(dr * 2, dc)  # a cell is about twice as tall as wide
        head = HEADS[round(angle / (math.pi / 4)) % 8]
        for step in range(1, ARROW_CELLS + 1):
            cell = (round(start[0] - dr * step), round(start[1] + dc * step))
            if not (0 <= cell[0] < height and 0 <= cell[1] < width):
                return
            put(cell, head if step == ARROW_CELLS else "·", colour, 5)


class SurfaceScreen(ViewScreen):
    """The 2-D race: the surface, the paths, a legend beside them and the step inspector."""

    @classmethod
    def unavailable(cls, host: AppHost) -> str | None:
        model = host.model
        if model.started is not None and not model.is_surface:
            return "this scenario has no 2-D surface"
        return None

    BINDINGS: ClassVar[list[BindingType]] = [
        *ViewScreen.BINDINGS,
        Binding("plus,equals_sign", "zoom(0.8)", "Zoom in", key_display="+"),
        Binding("minus", "zoom(1.25)", "Zoom out", key_display="-"),
        Binding("z", "fit", "Fit", tooltip="fit the view to the paths (and follow them)"),
        Binding("0", "reset_view", "Whole surface"),
        Binding("i", "toggle_inspector", "Inspect", tooltip="the selected racer's step"),
        Binding("left_square_bracket", "select(-1)", "Prev racer", key_display="["),
        Binding("right_square_bracket", "select(1)", "Next racer", key_display="]"),
        Binding("h", "pan(-1, 0)", "Pan", show=False),
        Binding("l", "pan(1, 0)", "Pan", show=False),
        Binding("k", "pan(0, 1)", "Pan", show=False),
        Binding("j", "pan(0, -1)", "Pan", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.inspecting = False

    def compose(self) -> ComposeResult:
        started = self.host.model.started
        name = started.problem.surface if started is not None else None
        yield Static(id="surface-title")
        with Horizontal(id="surface-body"):
            yield SurfacePlot(name or "peaks", id="surface-plot")
            with VerticalScroll(id="surface-side"):
                yield Static(id="surface-legend")
        yield Footer()

    @property
    def plot(self) -> SurfacePlot:
        return self.query_one(SurfacePlot)

    def draw(self, model: RaceRecord) -> None:
        plot = self.plot
        surface = plot.surface
        selected = self.host.selected_racer
        inspection = self._inspection(model, selected) if self.inspecting else None
        arrows: dict[str, np.ndarray] = {}
        if inspection is not None:
            arrows = {"gradient": inspection.gradient, "update": inspection.update}
            if inspection.momentum is not None:
                arrows["momentum"] = inspection.momentum[1]
        plot.draw(model, selected, arrows)
        x0, x1, y0, y1 = plot.view
        minimum = f" {MARKS['minimum']} known minimum" if surface.minima else ""
        fitted = " (fitted)" if plot.fitting else ""
        position = self.host.scrub_position
        if position is not None:
            fitted += f"   [bold $warning]⏪ step {position[0]}/{position[1]}[/] ←→"
        self.query_one("#surface-title", Static).update(
            f"[b]{escape(surface.name)}[/]  f = {escape(surface.formula)}\n"
            # One line at 80 columns: the ranges, then the marks' key.
            f"[$foreground-muted]x {x0:.3g}…{x1:.3g}  y {y0:.3g}…{y1:.3g}{fitted}  "
            f"{MARKS['start']} start {MARKS['line']} path{minimum}[/]"
        )
        legend = self._legend(model, selected)
        # The inspector first: on a short terminal the legend's rows would push it out of
        # sight.
        if inspection is not None and selected is not None:
            legend = inspector_text(inspection, model.specs[selected]) + "\n\n" + legend
        elif self.inspecting:
            legend = "[$warning]select a racer with a path ([ ])[/]\n\n" + legend
        self.query_one("#surface-legend", Static).update(legend)

    def _legend(self, model: RaceRecord, selected: int | None) -> str:
        lines = []
        for index, (rid, spec) in enumerate(model.specs.items()):
            stats = model.stats.get(rid)
            status = model.status(rid)
            where = fmt.DASH
            if stats is not None and stats.position is not None:
                where = f"({stats.position[0]:.2f}, {stats.position[1]:.2f})"
            loss = fmt.num(stats.loss) if stats is not None else fmt.DASH
            pointer = "▸" if rid == selected else " "
            lines.append(
                f"{pointer}[{spec.colour}]{glyph(index)}[/] [b]{escape(spec.name)}[/]\n"
                f"   {fmt.badge(status, short=True)} f {loss} {where}"
            )
        return "\n".join(lines)

    def _inspection(self, model: RaceRecord, racer: int | None) -> StepInspection | None:
        if racer is None or racer not in model.specs:
            return None
        path = racer_path(model, racer)
        if len(path) == 0:
            return None
        return inspect_step(self.plot.surface, model.specs[racer], path)

    def action_zoom(self, factor: float) -> None:
        model = self.host.model
        centre = None
        selected = self.host.selected_racer
        if selected is not None:
            path = racer_path(model, selected)
            if len(path):
                centre = (float(path[-1, 0]), float(path[-1, 1]))
        if centre is None:
            everything = [racer_path(model, rid) for rid in model.specs]
            points = [p for p in everything if len(p)]
            if points:
                stacked = np.vstack(points)
                low, high = stacked.min(axis=0), stacked.max(axis=0)
                centre = (float(low[0] + high[0]) / 2, float(low[1] + high[1]) / 2)
        self.plot.zoom(factor, centre)
        self.redraw(force=True)

    def action_pan(self, dx: float, dy: float) -> None:
        self.plot.pan(dx * PAN, dy * PAN)
        self.redraw(force=True)

    def action_fit(self) -> None:
        self.plot.fitting = True
        self.redraw(force=True)

    def action_reset_view(self) -> None:
        self.plot.reset()
        self.redraw(force=True)

    def action_toggle_inspector(self) -> None:
        self.inspecting = not self.inspecting
        self.query_one("#surface-side").set_class(self.inspecting, "-inspecting")
        self.redraw(force=True)

    def action_select(self, offset: int) -> None:
        ids = self.host.model.racer_ids()
        if not ids:
            return
        current = self.host.selected_racer
        index = ids.index(current) if current in ids else -offset
        self.host.selected_racer = ids[(index + offset) % len(ids)]
        self.redraw(force=True)


def inspector_text(seen: StepInspection, spec: RacerSpec) -> str:
    """The inspector panel: the step's vectors and the optimizer's state, per coordinate."""

    def pair(values: np.ndarray) -> str:
        return f"{fmt.num(float(values[0])):>10} {fmt.num(float(values[1])):>10}"

    arrow = {name: f"[{colour}]→[/]" for name, colour in ARROWS.items()}
    lines = [
        f"[b]step {seen.step} → {seen.step + 1}[/] {escape(spec.name)}",
        f"[$foreground-muted]{'':9}{'w0':>10} {'w1':>10}[/]",
        f"{'at':9}{pair(seen.position)}",
        f"{arrow['gradient']} {'∇f':7}{pair(seen.gradient)}",
        f"{arrow['update']} {'Δw':7}{pair(seen.update)}",
    ]
    if seen.momentum is not None:
        name, vector = seen.momentum
        lines.append(f"{arrow['momentum']} {escape(name[:7]):7}{pair(vector)}")
    lines.append(f"{'eff. lr':9}{pair(seen.effective_lr)}")
    lines.append("[$foreground-muted]eff. lr = -Δw / ∇f; arrows: direction only[/]")
    for name, value in seen.state.items():
        label = STATE_LABELS.get(name, name)
        if value.size >= 2:
            lines.append(f"[$foreground-muted]{escape(label)}[/]")
            lines.append(f"{'':9}{pair(value)}")
        else:
            lines.append(f"{escape(label)} {fmt.num(float(value.reshape(-1)[0]))}")
    for name, correction in seen.bias_corrections.items():
        lines.append(f"{name} {fmt.num(correction)}")
    return "\n".join(lines)
