"""The surface view: a 2-D loss surface shaded in half blocks, with every racer's path.

Each terminal cell shows two samples of the surface (``▀``: the upper one as foreground,
the lower one as background), shaded on a log scale so basins and ridges both show. The
shading is computed once per size, zoom and pan; paths, positions, the start and the known
minima are drawn over it on every update.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Footer, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.screens.view import SizedStatic, ViewScreen

if TYPE_CHECKING:
    from tui_optim.ui.state import RaceModel

#: Low to high: deep blue basins, teal slopes, yellow peaks.
GRADIENT = ((12, 20, 69), (30, 90, 140), (40, 160, 140), (150, 200, 80), (250, 230, 90))
ZOOM = 0.8
PAN = 0.1
MARKS = {"start": "◇", "minimum": "✚", "position": "●", "path": "•"}


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


class SurfacePlot(SizedStatic):
    """The shaded surface with the racers drawn on it."""

    DEFAULT_CSS = "SurfacePlot { width: 1fr; height: 1fr; }"

    def __init__(self, surface_name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        from tui_optim.engine.surfaces import get_surface

        self.surface = get_surface(surface_name)
        self.view = tuple(self.surface.bounds)
        self._background: tuple[tuple[int, int, float, float, float, float], np.ndarray] | None
        self._background = None

    # ---------------------------------------------------------------- view changes
    def zoom(self, factor: float) -> None:
        x0, x1, y0, y1 = self.view
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw, hh = (x1 - x0) / 2 * factor, (y1 - y0) / 2 * factor
        self.view = (cx - hw, cx + hw, cy - hh, cy + hh)

    def pan(self, dx: float, dy: float) -> None:
        x0, x1, y0, y1 = self.view
        sx, sy = (x1 - x0) * dx, (y1 - y0) * dy
        self.view = (x0 + sx, x1 + sx, y0 + sy, y1 + sy)

    def reset(self) -> None:
        self.view = tuple(self.surface.bounds)

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

    def draw(self, model: RaceModel) -> None:
        width, height = max(self.size.width, 10), max(self.size.height, 5)
        rgb = self._shading(width, height)
        marks: dict[tuple[int, int], tuple[str, str]] = {}
        for minimum in self.surface.minima:
            cell = self.cell_of(*minimum, width, height)
            if cell:
                marks[cell] = (MARKS["minimum"], "#ffffff")
        for rid, spec in model.specs.items():
            history = model.histories.get(rid)
            if history is None or "position" not in history.arrays():
                continue
            points = history.arrays()["position"]
            for x, y in points.tolist():
                cell = self.cell_of(x, y, width, height)
                if cell and cell not in marks:
                    marks[cell] = (MARKS["path"], spec.colour)
            if len(points):
                start = self.cell_of(*points[0].tolist(), width, height)
                if start:
                    marks[start] = (MARKS["start"], spec.colour)
            stats = model.stats.get(rid)
            if stats is not None and stats.position is not None:
                cell = self.cell_of(*stats.position, width, height)
                if cell:
                    marks[cell] = (MARKS["position"], spec.colour)
        text = Text(no_wrap=True, overflow="crop")
        for row in range(height):
            upper, lower = rgb[2 * row], rgb[2 * row + 1]
            for column in range(width):
                top = "#{:02x}{:02x}{:02x}".format(*upper[column])
                bottom = "#{:02x}{:02x}{:02x}".format(*lower[column])
                mark = marks.get((row, column))
                if mark is None:
                    text.append("▀", Style(color=top, bgcolor=bottom))
                else:
                    text.append(mark[0], Style(color=mark[1], bgcolor=bottom, bold=True))
            if row < height - 1:
                text.append("\n")
        self.update(text)


class SurfaceScreen(ViewScreen):
    """The 2-D race: the surface, the paths, and a legend."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *ViewScreen.BINDINGS,
        Binding("plus,equals_sign", "zoom(0.8)", "Zoom in", key_display="+"),
        Binding("minus", "zoom(1.25)", "Zoom out", key_display="-"),
        Binding("left", "pan(-1, 0)", "Pan", show=False),
        Binding("right", "pan(1, 0)", "Pan", show=False),
        Binding("up", "pan(0, 1)", "Pan", show=False),
        Binding("down", "pan(0, -1)", "Pan", show=False),
        Binding("0", "reset_view", "Reset view"),
    ]

    def compose(self) -> ComposeResult:
        started = self.app.model.started
        name = started.problem.surface if started is not None else None
        yield Static(id="surface-title")
        with Horizontal(id="surface-body"):
            yield SurfacePlot(name or "peaks", id="surface-plot")
            yield Static(id="surface-legend")
        yield Footer()

    @property
    def plot(self) -> SurfacePlot:
        return self.query_one(SurfacePlot)

    def draw(self, model: RaceModel) -> None:
        plot = self.plot
        surface = plot.surface
        x0, x1, y0, y1 = plot.view
        self.query_one("#surface-title", Static).update(
            f"[b]{escape(surface.name)}[/]  f = {escape(surface.formula)}\n"
            f"[$foreground-muted]x {x0:.3g} … {x1:.3g}   y {y0:.3g} … {y1:.3g}   "
            f"{MARKS['start']} start  {MARKS['position']} now  {MARKS['minimum']} known minimum"
            "   +/- zoom, arrows pan, 0 reset[/]"
        )
        plot.draw(model)
        lines = []
        for rid, spec in model.specs.items():
            stats = model.stats.get(rid)
            status = stats.status if stats is not None else "running"
            where = fmt.DASH
            if stats is not None and stats.position is not None:
                where = f"({stats.position[0]:.3f}, {stats.position[1]:.3f})"
            loss = fmt.num(stats.loss) if stats is not None else fmt.DASH
            lines.append(
                f"{fmt.swatch(spec.colour)} [b]{escape(spec.name)}[/]\n"
                f"  {fmt.badge(status)}  f {loss}\n  at {where}"
            )
        self.query_one("#surface-legend", Static).update("\n".join(lines))

    def action_zoom(self, factor: float) -> None:
        self.plot.zoom(factor)
        self.redraw(force=True)

    def action_pan(self, dx: float, dy: float) -> None:
        self.plot.pan(dx * PAN, dy * PAN)
        self.redraw(force=True)

    def action_reset_view(self) -> None:
        self.plot.reset()
        self.redraw(force=True)
