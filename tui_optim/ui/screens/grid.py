"""The grid view: small multiples, optimizers in rows and learning rates in columns.

The course's exercise layout: each cell is one racer's loss curve (a text sparkline on a
log scale), its current loss and its status badge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.css.query import NoMatches
from textual.markup import escape
from textual.widgets import Footer, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.screens.view import SizedStatic, ViewScreen
from tui_optim.ui.widgets.spark import spark

if TYPE_CHECKING:
    from tui_optim.ui.state import RaceModel

LABEL_WIDTH = 12


def axis_label(key: str | None, value: object) -> str:
    if key is None:
        return ""
    if isinstance(value, float):
        return f"{key} {value:g}"
    return str(value)


class GridScreen(ViewScreen):
    """Rows and columns of the scenario's [grid]; one cell per racer."""

    def compose(self) -> ComposeResult:
        yield Static(id="grid-title")
        with VerticalScroll(id="grid-scroll"):
            yield Grid(id="grid-cells")
        yield Footer()

    def on_mount(self) -> None:
        started = self.app.model.started
        grid = self.query_one("#grid-cells", Grid)
        if started is None or started.grid is None:
            super().on_mount()
            return
        (row_key, rows), (column_key, columns) = started.grid
        columns = columns or (None,)
        grid.styles.grid_size_columns = len(columns) + 1
        grid.styles.grid_columns = f"{LABEL_WIDTH} " + " ".join(["1fr"] * len(columns))
        cells: list[Static] = [Static("", classes="grid-corner")]
        cells += [
            Static(f"[b]{escape(axis_label(column_key, c))}[/]", classes="grid-head")
            for c in columns
        ]
        for i, row in enumerate(rows):
            cells.append(Static(f"[b]{escape(axis_label(row_key, row))}[/]", classes="grid-head"))
            cells += [
                SizedStatic("", id=f"cell-{i}-{j}", classes="grid-cell")
                for j in range(len(columns))
            ]
        # The cells draw once laid out: their ContentResized asks for it.
        grid.mount_all(cells)

    def draw(self, model: RaceModel) -> None:
        started = model.started
        title = self.query_one("#grid-title", Static)
        if started is None or started.grid is None:
            title.update("this scenario is not a grid")
            return
        title.update(
            f"[b]{escape(started.title)}[/]  [$foreground-muted]rows: {started.grid[0][0]}, "
            f"columns: {started.grid[1][0] or '-'}; loss on a log scale, epoch "
            f"{model.epoch:.0f}[/]"
        )
        for rid, spec in model.specs.items():
            if spec.grid_position is None or spec.repeat:
                continue
            i, j = spec.grid_position
            try:
                cell = self.query_one(f"#cell-{i}-{j}", Static)
            except NoMatches:
                continue  # not mounted yet, or a racer outside the grid: the others still draw
            width = max(cell.size.width - 2, 8)
            history = model.histories.get(rid)
            losses = history.arrays()["loss"] if history is not None else []
            stats = model.stats.get(rid)
            status = stats.status if stats is not None else "running"
            loss = fmt.num(stats.loss if stats is not None else None)
            cell.update(
                f"[{spec.colour}]{spark(losses, width)}[/]\n"
                f"{fmt.badge(status, short=True)} train {loss}"
            )
            cell.tooltip = stats.reason if stats is not None and stats.reason else spec.name
