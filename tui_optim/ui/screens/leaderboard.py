"""The leaderboard: racers ranked by the scenario's ``rank_by`` (by default the final
validation loss, or the final training loss without a validation split), DNF last.

Repeats (the same racer over several seeds) are one row with mean ± standard deviation.
The ranking is the engine's (:func:`tui_optim.results.export.leaderboard`), the same the
command line prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import DataTable, Footer, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.screens.view import ViewScreen

if TYPE_CHECKING:
    from tui_optim.results.record import RaceRecord

COLUMNS = (
    "#",
    "racer",
    "status",
    "steps to target",
    "epochs",
    "seconds",
    "train loss",
    "val loss",
    "val acc",
)
#: The last column of a time series race: steps predicted ahead instead of accuracy.
HORIZON_COLUMNS = (*COLUMNS[:-1], "horizon (steps)")
#: Below this width the time to target is one column and the status a symbol, so that no
#: column is cut off at 80 columns.
COMPACT_BELOW = 110
COMPACT_COLUMNS = ("#", "racer", "", "to target", "train loss", "val loss", "val acc")
COMPACT_HORIZON_COLUMNS = (*COMPACT_COLUMNS[:-1], "ahead")
#: Columns that say nothing in a race without a target, without a validation split, or
#: without an accuracy (a surface, a regression): not shown there.
TARGET_COLUMNS = frozenset({"steps to target", "epochs", "seconds", "to target"})
VALIDATION_COLUMNS = frozenset({"val loss", "val acc"})


def with_spread(value: float | None, spread: float | None) -> str:
    text = fmt.num(value)
    return f"{text} ± {spread:.2g}" if value is not None and spread is not None else text


class LeaderboardScreen(ViewScreen):
    def compose(self) -> ComposeResult:
        yield Static(id="board-title")
        yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.columns: tuple[str, ...] = COLUMNS
        table = self.query_one(DataTable)
        table.add_columns(*self.columns)
        # focused, so the arrow and page keys reach the rows below the screen's edge (at
        # 80x24 a 24-racer board shows 19: the stalled and diverged ones come last)
        table.focus()
        super().on_mount()

    def draw(self, model: RaceRecord) -> None:
        from tui_optim.results.export import leaderboard, rank_label

        started = model.started
        target = fmt.num(started.target_loss) if started and started.target_loss else "none"
        title = escape(started.title) if started else ""
        ranked = rank_label(model)
        what = "f final, at each racer's point" if model.is_surface else (
            "losses final, on the whole set"
        )
        self.query_one("#board-title", Static).update(
            f"[b]{title}[/]  [$foreground-muted]target loss {target}; ranked by {ranked}; "
            f"{what}; DNF = diverged or failed[/]"
        )
        table = self.query_one(DataTable)
        # a live race redraws the board at every update: where the reader was stays put
        cursor_row, scroll_y = table.cursor_row, table.scroll_y
        table.clear()
        if started is None:
            return
        seconds_hidden = self.host.test_mode
        rows = leaderboard(model)
        horizon = any(r.horizon is not None for r in rows)
        compact = self.size.width < COMPACT_BELOW
        columns: tuple[str, ...]
        if compact:
            columns = COMPACT_HORIZON_COLUMNS if horizon else COMPACT_COLUMNS
        else:
            columns = HORIZON_COLUMNS if horizon else COLUMNS
        hidden: set[str] = set()
        if not model.has_target:
            hidden |= TARGET_COLUMNS
        if not model.has_validation:
            hidden |= VALIDATION_COLUMNS
        if model.is_surface or not model.has_accuracy:
            hidden.add("val acc")
        loss_name = fmt.loss_name(model.is_surface, long=True)
        columns = tuple(loss_name if c == "train loss" else c for c in columns if c not in hidden)
        # A sweep's tuned race: each racer's P(win) from the sweep's paired bootstrap.
        scenario = self.host.scenario
        p_win = scenario.p_win if scenario is not None else None
        if p_win:
            columns = (*columns, "P(win)")
        if columns != self.columns:
            self.columns = columns
            table.clear(columns=True)
            table.add_columns(*columns)
        for row in rows:
            runs = f" (×{row.runs}, {row.reached_target} at target)" if row.runs > 1 else ""
            steps = "-" if row.steps_to_target is None else f"{row.steps_to_target:.0f}"
            if row.steps_to_target is not None and not row.target_exact:
                steps = "≤" + steps  # the first evaluation at or below the target
            if row.grad_evals_to_target not in (None, row.steps_to_target):
                steps += f" ({row.grad_evals_to_target:.0f} grad evals)"
            epochs = "-" if row.epochs_to_target is None else f"{row.epochs_to_target:.3g}"
            seconds = "-" if row.seconds_to_target is None else f"{row.seconds_to_target:.2f}"
            cells = {
                "#": "DNF" if row.rank is None else str(row.rank),
                "racer": row.name + runs,
                "": fmt.badge_text(row.status, self.app.theme_variables, short=True),
                "status": fmt.badge_text(row.status, self.app.theme_variables),
                "to target": "-" if row.steps_to_target is None else f"{steps} st {epochs} ep",
                "steps to target": steps,
                "epochs": epochs,
                "seconds": fmt.DASH if seconds_hidden else seconds,
                loss_name: with_spread(row.loss, row.loss_std),
                "val loss": with_spread(row.val_loss, row.val_loss_std),
                "val acc": fmt.pct(row.val_accuracy),
                "horizon (steps)": with_spread(row.horizon, row.horizon_std),
                "ahead": with_spread(row.horizon, row.horizon_std),
                "P(win)": fmt.num(p_win.get(row.name), 2) if p_win else "",
            }
            table.add_row(*(cells[column] for column in columns))
        if table.row_count:
            table.move_cursor(row=min(cursor_row, table.row_count - 1), scroll=False)
            table.scroll_to(y=scroll_y, animate=False, immediate=True)
