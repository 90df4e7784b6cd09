"""The grid view: small multiples, optimizers in rows and learning rates in columns.

The course's exercise layout: each cell is one racer's loss curve (a text sparkline on a
log scale shared by every cell, so a loss of 0.68 and one of 0.001 look different), its
current loss and its status badge; below, the table the exercises fill in (final loss and
validation accuracy per optimizer and learning rate), exported with ctrl+e as "grid table".
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
from tui_optim.ui.widgets.spark import shared_span, spark

if TYPE_CHECKING:
    import numpy as np

    from tui_optim.results.record import RaceRecord
    from tui_optim.ui.host import AppHost

LABEL_WIDTH = 12


def axis_label(key: str | None, value: object) -> str:
    if key is None:
        return ""
    if isinstance(value, float):
        return f"{key} {value:g}"
    return str(value)


class GridScreen(ViewScreen):
    """Rows and columns of the scenario's [grid]; one cell per racer."""

    @classmethod
    def unavailable(cls, host: AppHost) -> str | None:
        model = host.model
        if model.started is not None and not model.is_grid:
            return "this scenario is not a grid"
        return None

    def compose(self) -> ComposeResult:
        yield Static(id="grid-title")
        with VerticalScroll(id="grid-scroll"):
            yield Grid(id="grid-cells")
            yield Static(id="grid-table")
        yield Footer()

    def on_mount(self) -> None:
        started = self.host.model.started
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

    def draw(self, model: RaceRecord) -> None:
        started = model.started
        title = self.query_one("#grid-title", Static)
        if started is None or started.grid is None:
            title.update("this scenario is not a grid")
            return
        # the cells say "train": the whole-training-set loss, as everywhere
        loss = "f" if model.is_surface else "training loss"
        title.update(
            f"[b]{escape(started.title)}[/]  [$foreground-muted]rows: {started.grid[0][0]}, "
            f"columns: {started.grid[1][0] or '-'}; {loss} on one log scale, epoch "
            f"{model.epoch:.0f}[/]"
        )
        histories = {
            rid: history.arrays()["loss"]
            for rid, history in model.histories.items()
            if history is not None
        }
        span = shared_span(
            [histories[rid] for rid, spec in model.specs.items() if rid in histories]
        )
        self._draw_table(model)
        for rid, spec in model.specs.items():
            if spec.grid_position is None or spec.repeat:
                continue
            i, j = spec.grid_position
            try:
                cell = self.query_one(f"#cell-{i}-{j}", Static)
            except NoMatches:
                continue  # not mounted yet, or a racer outside the grid: the others still draw
            # The cell's own width (past its border and padding): a wider line wraps.
            width = max(cell.content_size.width, 4)
            losses: np.ndarray | list[float] = histories.get(rid, [])
            stats = model.stats.get(rid)
            status = model.status(rid)
            loss = fmt.num(stats.loss if stats is not None else None)
            name = fmt.loss_name(model.is_surface)
            label = f"{name} " if len(f"x {name} {loss}") <= width else ""
            cell.update(
                f"[{spec.colour}]{spark(losses, width, span=span)}[/]\n"
                f"{fmt.badge(status, short=True)} {label}{loss}"
            )
            cell.tooltip = stats.reason if stats is not None and stats.reason else spec.name

    def _draw_table(self, model: RaceRecord) -> None:
        """Final loss / validation accuracy per cell (the mean over repeats that finished)."""
        from rich.table import Table

        from tui_optim.results.export import grid_table

        rows, columns, cells = grid_table(model)
        table = Table(
            title="final loss / validation accuracy (ctrl+e: export the grid table)",
            title_justify="left",
            expand=False,
        )
        table.add_column("")
        for column in columns:
            table.add_column(column or "-", justify="right", no_wrap=True)
        for label, line in zip(rows, cells, strict=True):
            texts = []
            for cell in line:
                if cell is None:
                    texts.append("-")
                    continue
                loss = fmt.num(cell.final_loss) if cell.final_loss is not None else "DNF"
                accuracy = "" if cell.val_accuracy is None else f" / {cell.val_accuracy:.0%}"
                texts.append(loss + accuracy)
            table.add_row(label, *texts)
        self.query_one("#grid-table", Static).update(table)
