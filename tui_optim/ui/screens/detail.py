"""One racer in detail: per-layer figures, gradient and update sparklines, hyperparameters.

``e`` edits the hyperparameters live and ``f`` forks the racer (the app's keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widgets import DataTable, Footer, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.screens.view import SizedStatic, ViewScreen
from tui_optim.ui.widgets.spark import spark

if TYPE_CHECKING:
    from tui_optim.race.messages import RacerStats
    from tui_optim.results.record import RaceRecord
    from tui_optim.ui.host import AppHost

LAYER_COLUMNS = ("layer", "|W|", "|grad|", "|update|/|W|", "effective step", "optimizer state")


def layers_note(stats: RacerStats | None, scrub: tuple[int, int] | None) -> str:
    """One line where the layer figures are missing: a results file keeps them for the
    race's last step only, and one written by an older version not at all. "" when there
    is nothing to say (the figures show, or a live race has yet to send them)."""
    if stats is None or stats.layers or scrub is None:
        return ""
    shown, last = scrub
    if shown < last:
        return f"layer figures: kept for the last step only (step {last}; End goes there)"
    return "layer figures: not recorded in this results file"


class DetailScreen(ViewScreen):
    """The selected racer (``host.selected_racer``)."""

    @classmethod
    def unavailable(cls, host: AppHost) -> str | None:
        racer = host.selected_racer
        return "no racer selected" if racer not in host.model.specs else None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with Vertical(id="detail-body"):
            yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
            yield Static(id="layers-note")
            with Horizontal(id="detail-sparks"):
                yield SizedStatic(id="spark-grad", classes="detail-spark")
                yield SizedStatic(id="spark-update", classes="detail-spark")
                yield SizedStatic(id="spark-sharpness", classes="detail-spark")
            yield Static(id="detail-hparams")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#layers", DataTable).add_columns(*LAYER_COLUMNS)
        self.query_one("#spark-grad").border_title = "gradient norm (log)"
        self.query_one("#spark-update").border_title = "|update| / |weights| (log)"
        self.query_one("#spark-sharpness").border_title = "sharpness (top Hessian eigenvalue)"
        super().on_mount()

    def draw(self, model: RaceRecord) -> None:
        rid = self.host.selected_racer
        spec = model.specs.get(rid) if rid is not None else None
        title = self.query_one("#detail-title", Static)
        if spec is None:
            title.update("no racer selected (the racer was removed?)")
            return
        stats = model.stats.get(spec.id)
        status = model.status(spec.id)
        reason = f"\n[$foreground-muted]{escape(stats.reason)}[/]" if stats and stats.reason else ""
        figures = ""
        if stats is not None:
            name = fmt.loss_name(model.is_surface, long=True)
            figures = (
                f"  step {stats.step}  epoch {stats.epoch:.1f}  {name} {fmt.num(stats.loss)}"
                f"  best {fmt.num(stats.best_loss)}"
            )
            if not model.is_surface:  # a surface has no batches: f is evaluated every step
                figures += f"  batch loss {fmt.num(stats.batch_loss)}"
            if stats.val_loss is not None:
                figures += f"  val loss {fmt.num(stats.val_loss)}"
            if stats.val_accuracy is not None:
                figures += f"  val acc {fmt.pct(stats.val_accuracy)}"
            if stats.horizon is not None:
                figures += f"  horizon {stats.horizon:.0f} steps"
        title.update(
            f"{fmt.swatch(spec.colour)} [b]{escape(spec.name)}[/] "
            f"({escape(fmt.flavored(spec.optimizer, spec.flavor))})  "
            f"{fmt.badge(status)}{figures}{reason}"
        )
        table = self.query_one("#layers", DataTable)
        table.clear()
        note = layers_note(stats, self.host.scrub_position)
        self.query_one("#layers-note", Static).update(note)
        self.query_one("#layers-note").display = bool(note)
        for layer in stats.layers if stats is not None else ():
            state = "  ".join(f"{k} {fmt.num(v, 3)}" for k, v in layer.state_norms.items())
            table.add_row(
                layer.name,
                fmt.num(layer.weight_norm),
                fmt.num(layer.grad_norm),
                fmt.num(layer.update_ratio, 3),
                fmt.num(layer.effective_step, 3),
                state or fmt.DASH,
            )
        history = model.histories.get(spec.id)
        arrays = history.arrays() if history is not None else {}
        for widget_id, key in (("#spark-grad", "grad_norm"), ("#spark-update", "update_ratio")):
            widget = self.query_one(widget_id, Static)
            values: np.ndarray | list[float] = arrays.get(key, [])
            last = fmt.num(float(values[-1])) if len(values) else fmt.DASH
            widget.update(
                f"[{spec.colour}]{spark(values, max(widget.size.width - 4, 8))}[/]\nnow {last}"
            )
        self._draw_sharpness(spec.colour, arrays.get("sharpness"), arrays.get("step"), stats)
        hparams = "  ".join(f"{k}={fmt.hparam_value(v)}" for k, v in spec.hparams.items())
        schedule = f"  schedule {escape(spec.schedule)}" if spec.schedule else ""
        parent = ""
        if spec.parent is not None and spec.parent in model.specs:
            parent = f"  forked from {escape(model.specs[spec.parent].name)}"
        self.query_one("#detail-hparams", Static).update(
            f"[b]hyperparameters[/] {escape(hparams)}{schedule}{parent}\n"
            "[$foreground-muted]e edit them live, f fork this racer with a change, "
            "escape back[/]"
        )

    def _draw_sharpness(
        self, colour: str, values: Any, steps: Any, stats: RacerStats | None
    ) -> None:
        """The sharpness over time against the optimizer's stability threshold: the
        sparkline's points above the threshold in the error colour, the threshold in
        numbers (no fixed threshold for adaptive methods)."""
        widget = self.query_one("#spark-sharpness", Static)
        if values is None or steps is None:
            widget.update(fmt.DASH)
            return
        known = np.isfinite(values)
        values, steps = np.asarray(values)[known], np.asarray(steps)[known]
        limit = stats.stability_limit if stats is not None else None
        width = max(widget.size.width - 4, 8)
        line = spark(values, width)
        if limit is not None and len(values):
            above = values > limit
            cells = np.array_split(above, len(line)) if len(line) else []
            line = "".join(
                f"[$error]{ch}[/]" if len(cell) and cell.any() else f"[{colour}]{ch}[/]"
                for ch, cell in zip(line, cells, strict=False)
            )
            shown = f"now {fmt.num(float(values[-1]))}, stable below {fmt.num(limit)}"
            if above.any():
                shown += f"; above it at step {int(steps[np.argmax(above)])}"
        else:
            line = f"[{colour}]{line}[/]"
            last = fmt.num(float(values[-1])) if len(values) else fmt.DASH
            shown = f"now {last}; no fixed threshold for this optimizer"
        widget.update(f"{line}\n{shown}")
