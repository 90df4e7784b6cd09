"""The parameter table: one row per racer, sortable by any column (header click or key)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from tui_optim.ui import format as fmt
from tui_optim.ui.host import Hosted
from tui_optim.ui.messages import RacerSelected

if TYPE_CHECKING:
    from tui_optim.race.messages import RacerSpec, RacerStats
    from tui_optim.results.record import RaceRecord

#: (column key, header label). The figures and the status come first: at 80 columns the
#: table shows racer to status, and a number is never cut to its sign ("-6.55" to "-").
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "racer"),
    ("lr", "lr"),
    ("loss", "train loss"),
    ("best", "best train"),
    ("acc", "val acc"),  # "train acc" without a validation split
    ("status", "status"),
    ("target", "to target"),
    ("optimizer", "optimizer"),
    ("hparams", "hyperparameters"),
    ("grad", "|grad|"),
    ("ratio", "upd/w"),
)
#: Fixed widths: auto-sized columns would depend on every value shown so far, so the same
#: race could lay out differently depending on when its snapshots arrived.
WIDTHS = {
    "name": 19,  # a glyph and "rmsprop lr=0.0001": a cut name reads "lr=0.000"
    "optimizer": 13,
    "lr": 6,
    "hparams": 24,
    "loss": 10,
    "best": 10,
    "acc": 7,
    "grad": 8,
    "ratio": 8,
    "status": 13,
    "target": 14,
}

STATUS_ORDER = [
    "converged",
    "finished",
    "running",
    "stalled",
    "oscillating",
    "diverging",
    "diverged",
    "error",
]


@dataclass(frozen=True)
class Cell:
    """A table cell that renders as ``text`` and sorts by ``key`` (None sorts last)."""

    text: str | Text
    key: float | str | None

    def __rich__(self) -> Text:
        return self.text if isinstance(self.text, Text) else Text(self.text)

    def sort_key(self) -> tuple[int, float | str]:
        if self.key is None or (isinstance(self.key, float) and math.isnan(self.key)):
            return (1, 0.0)
        return (0, self.key)


def _number_cell(value: float | None) -> Cell:
    return Cell(Text(fmt.num(value), justify="right"), value)


def _lr_cell(lr: float | None) -> Cell:
    """The learning rate as the scenario writes it (0.0001, 3e-05): it fits the column,
    where the figures' 1.00e-04 was cut to a wrong 1.00e-0."""
    return Cell(Text(fmt.DASH if lr is None else f"{lr:g}", justify="right"), lr)


class ParamTable(Hosted, DataTable[Cell]):
    """Racers with their hyperparameters and live figures. Cursor row = selected racer.

    The columns are those that mean something in the race: no accuracy on a surface or a
    regression, no "to target" without a target; the loss columns say f on a surface, and
    the accuracy column whether it is measured on the validation split.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._drawn_version = -1
        self._shown: dict[str, list[Cell]] = {}  # row key -> the cells on screen
        #: column key -> header label of the columns shown, in order
        self.labels = dict(COLUMNS)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label in self.labels.items():
            self.add_column(label, key=key, width=max(WIDTHS[key], len(label)))

    # ------------------------------------------------------------------ selection
    @property
    def selected_racer(self) -> int | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def select_racer(self, racer: int) -> None:
        # The racer may have vanished in between; then the cursor stays where it is.
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(str(racer)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Textual sends row_key None for a row removed while the message was queued (the
        # table rebuilt between a fast key and its highlight).
        if event.row_key is not None and event.row_key.value is not None:
            self.post_message(RacerSelected(int(event.row_key.value), from_table=True))

    # ------------------------------------------------------------------ sorting
    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def sort_by(self, column: str) -> None:
        """Sort by ``column``; choosing the same column again reverses the order."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._apply_sort()

    def fit_columns(self, model: RaceRecord) -> None:
        """Show the columns that mean something in ``model``'s race, named for it."""
        surface = model.is_surface
        labels = {
            **dict(COLUMNS),
            "loss": fmt.loss_name(surface, long=True),
            "best": f"best {fmt.loss_name(surface)}",
            "acc": "val acc" if model.has_validation else "train acc",
        }
        if surface or not model.has_accuracy:
            del labels["acc"]
        if not model.has_target:
            del labels["target"]
        if labels == self.labels:
            return
        selected = self.selected_racer
        self.labels = labels
        if self.sort_column not in labels:
            self.sort_column, self.sort_reverse = None, False
        self.clear(columns=True)
        self._shown.clear()
        self._add_columns()
        if selected is not None:
            self.call_after_refresh(self.select_racer, selected)

    def cycle_sort(self) -> str:
        """Sort by the next column (for the keyboard); returns its label."""
        keys = list(self.labels)
        nxt = (
            keys[0]
            if self.sort_column is None
            else keys[(keys.index(self.sort_column) + 1) % len(keys)]
        )
        self.sort_column, self.sort_reverse = nxt, False
        self._apply_sort()
        return self.labels[nxt]

    def _apply_sort(self, force: bool = False) -> None:
        if not force and (self.sort_column is None or self.row_count == 0):
            return
        if self.sort_column is not None and self.row_count:
            selected = self.selected_racer
            self.sort(
                self.sort_column, key=lambda cell: cell.sort_key(), reverse=self.sort_reverse
            )
            if selected is not None:
                self.select_racer(selected)
        for key, label in self.labels.items():
            arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column else ""
            self.columns[ColumnKey(key)].label = Text(label + arrow)
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh_from(self, model: RaceRecord) -> None:
        """Bring rows in line with the model (add/remove racers, update figures)."""
        if model.version == self._drawn_version:
            return
        self._drawn_version = model.version
        self.fit_columns(model)
        wanted = [str(rid) for rid in model.racer_ids()]
        present = {key.value for key in self.rows if key.value is not None}
        for key in present - set(wanted):
            self.remove_row(key)
            self._shown.pop(key, None)
        changed = False
        for index, rid in enumerate(model.racer_ids()):
            cells = self._cells(model, model.specs[rid], fmt.racer_glyph(index))
            key = str(rid)
            if key in present:
                # Only what changed: two dozen racers x 11 columns at 10 Hz add up.
                shown = self._shown[key]
                for index, (column, cell) in enumerate(zip(self.labels, cells, strict=True)):
                    if cell != shown[index]:
                        self.update_cell(key, column, cell)
                        changed = True
            else:
                self.add_row(*cells, key=key)
                changed = True
            self._shown[key] = cells
        if changed:
            self._apply_sort()

    def forget_drawn(self) -> None:
        """Draw every cell again on the next refresh (the theme changed the colours)."""
        self._drawn_version = -1
        self._shown = {key: [Cell("", None)] * len(self.labels) for key in self._shown}

    def _cells(self, model: RaceRecord, spec: RacerSpec, glyph: str) -> list[Cell]:
        stats = model.stats.get(spec.id)
        others = {k: v for k, v in spec.hparams.items() if k != "lr"}
        hparams = fmt.flavor_tag(spec.flavor) + fmt.key_hparams(
            others, limit=3, optimizer=spec.optimizer
        )
        lr = spec.hparams.get("lr")
        colour = fmt.readable(spec.colour, self.app.theme_variables.get("background", "#000000"))
        name = Text.assemble((f"{glyph} ", colour), spec.name)
        status = model.status(spec.id)
        status_rank = float(STATUS_ORDER.index(status)) if status in STATUS_ORDER else None
        badge = Cell(fmt.badge_text(status, self.app.theme_variables), status_rank)
        cells = {
            "name": Cell(name, spec.name),
            "optimizer": Cell(spec.optimizer, spec.optimizer),
            "lr": _lr_cell(float(lr) if lr is not None else None),
            "hparams": Cell(hparams, None),
            "status": badge,
            "target": Cell(fmt.DASH, None),
        }
        if stats is None:
            for key in ("loss", "best", "acc", "grad", "ratio"):
                cells[key] = _number_cell(None)
        else:
            accuracy = stats.val_accuracy if stats.val_accuracy is not None else stats.accuracy
            cells |= {
                "loss": _number_cell(stats.loss),
                "best": _number_cell(stats.best_loss),
                "acc": Cell(Text(fmt.pct(accuracy), justify="right"), accuracy),
                "grad": _number_cell(stats.grad_norm),
                "ratio": _number_cell(stats.update_ratio),
                "target": self._target_cell(stats),
            }
        return [cells[key] for key in self.labels]

    def _target_cell(self, stats: RacerStats) -> Cell:
        target = stats.time_to_target
        if target is None:
            return Cell(fmt.DASH, None)
        # "≤": the first evaluation at or below the target, the crossing was not seen
        steps = f"{'' if target.exact else '≤'}{target.steps} st"
        if target.grad_evals != target.steps:  # L-BFGS, SAM: more work than steps
            steps += f" {target.grad_evals} ev"
        if self.host.test_mode:
            return Cell(steps, float(target.steps))
        return Cell(f"{steps} {target.seconds:.1f}s", float(target.steps))
