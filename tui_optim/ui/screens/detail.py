"""One racer in detail: per-layer figures, gradient and update sparklines, the sharpness
against the optimizer's stability limit, hyperparameters.

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
from tui_optim.ui.widgets.spark import LINE, bar_chart, spark

if TYPE_CHECKING:
    from tui_optim.race.messages import RacerStats
    from tui_optim.results.record import RaceRecord
    from tui_optim.ui.host import AppHost

#: Fewest rows of the sharpness chart (the panel's last row holds the numbers); it takes
#: every row the screen leaves it.
SHARPNESS_ROWS = 2

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
        self.query_one("#spark-update").border_title = "|update| / |weights| (log)"
        self.query_one("#spark-sharpness").border_title = f"sharpness (limit {LINE})"
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
            epoch = "" if model.is_surface else f"  epoch {stats.epoch:.1f}"
            figures = (
                f"  step {stats.step}{epoch}  {name} {fmt.num(stats.loss)}"
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
        steps = arrays.get("step")
        # a surface's gradient is the function's own; a network's, the last mini-batch's
        gradient = "|gradient|" if model.is_surface else "batch |gradient|"
        self.query_one("#spark-grad").border_title = f"{gradient} (log)"
        for widget_id, key in (("#spark-grad", "grad_norm"), ("#spark-update", "update_ratio")):
            widget = self.query_one(widget_id, Static)
            values: np.ndarray | list[float] = arrays.get(key, [])
            # the history's points are the evaluations: say which step the last one is
            last = (
                f"step {int(steps[-1])}: {fmt.num(float(values[-1]))}"
                if len(values) and steps is not None and len(steps)
                else fmt.DASH
            )
            widget.update(
                f"[{spec.colour}]{spark(values, max(widget.content_size.width, 8))}[/]\n{last}"
            )
        self._draw_sharpness(spec.colour, arrays.get("sharpness"), steps, stats)
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
        """The sharpness over time against the optimizer's stability limit: bars on a scale
        from zero, the limit as a line across them, bars above it in the error colour, the
        last value and the limit in numbers, and in the bottom border the first step over
        it. Adaptive methods have no fixed limit, and their sharpness is not estimated."""
        widget = self.query_one("#spark-sharpness", Static)
        limit = stats.stability_limit if stats is not None else None
        known = np.isfinite(values) if values is not None and steps is not None else None
        widget.border_subtitle = ""
        if known is None or not known.any():
            widget.update(
                "no fixed limit for this optimizer: not estimated"
                if limit is None
                else f"limit {fmt.num(limit)}; no estimate yet: one is made every few dozen "
                "evaluations, and a race with fewer has none"
            )
            return
        values, steps = np.asarray(values)[known], np.asarray(steps)[known]
        # every row the panel has but the one with the numbers
        rows = max(SHARPNESS_ROWS, widget.content_size.height - 1)
        chart = bar_chart(values, max(widget.content_size.width, 8), rows, limit)
        lines = [
            "".join(
                f"[$warning]{ch}[/]"
                if ch == LINE
                else f"[$error]{ch}[/]"
                if column < len(chart.over) and chart.over[column]
                else f"[{colour}]{ch}[/]"
                for column, ch in enumerate(row)
            )
            for row in chart.rows
        ]
        now = float(values[-1])
        if limit is None:
            shown = f"now {fmt.num(now)}, no fixed limit"
        else:
            shown = f"now {fmt.num(now)} {'>' if now > limit else '<'} limit {fmt.num(limit)}"
            above = values > limit
            if above.any():
                widget.border_subtitle = f"first over at step {int(steps[np.argmax(above)])}"
        widget.update("\n".join([*lines, shown]))
