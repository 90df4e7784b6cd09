"""One racer at a glance: colour, name, key hyperparameters, status, sparkline, figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal
from textual.content import Content
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from tui_optim.ui import format as fmt
from tui_optim.ui.host import Hosted
from tui_optim.ui.messages import RacerSelected

if TYPE_CHECKING:
    from tui_optim.race.messages import RacerSpec, RacerStats
    from tui_optim.results.record import RaceRecord

#: The figures' width is rounded up to a multiple of this many cells.
FIGURES_STEP = 4
#: Points in a card's sparkline (the widget summarises them into its width).
SPARK_POINTS = 120


def loss_spark_data(model: RaceRecord, racer: int) -> list[float]:
    """The racer's whole loss history averaged into SPARK_POINTS buckets (finite values
    only): on a log10 scale, the descent over decades rather than the noise of the tail;
    on a linear one when the history has values <= 0 (f on a surface that goes below
    zero), which a log scale would leave out."""
    history = model.histories.get(racer)
    if history is None:
        return []
    loss = history.arrays()["loss"]
    loss = loss[np.isfinite(loss)]
    if loss.size == 0:
        return []
    values = np.log10(loss) if (loss > 0).all() else loss
    if values.size <= SPARK_POINTS:
        return [float(v) for v in values.tolist()]
    edges = np.linspace(0, values.size, SPARK_POINTS + 1).astype(int)
    return [float(v) for v in (np.add.reduceat(values, edges[:-1]) / np.diff(edges)).tolist()]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


class RacerCard(Hosted, Widget):
    """A card for one racer. ``refresh_from(model)`` redraws it; the app never trains here.

    Wide layout: a bordered box in the racer's colour. ``set_compact(True)`` (the race screen
    calls it on narrow terminals) makes it a single line.
    """

    DEFAULT_CSS = """
    RacerCard { height: auto; }
    """

    def __init__(self, spec: RacerSpec, *, glyph: str = "█") -> None:
        # No id: after a restart the old cards are still being removed when new ones mount.
        super().__init__(classes="racer-card")
        self.spec = spec
        self.glyph = glyph
        self._drawn_version = -1
        self._ready = False
        self._shown: dict[str, object] = {}  # part -> what it shows now
        self._figures_width = 0  # cells, padded (see refresh_from)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-top"):
            yield Static(classes="card-name")
            yield Static(classes="card-badge")
        yield Static(classes="card-hparams")
        with Horizontal(classes="card-bottom"):
            yield Sparkline(
                [],
                classes="card-spark",
                max_color=self.spec.colour,
                min_color=self.spec.colour,
                summary_function=_mean,  # a column is its points' mean (default: max)
            )
            yield Static(classes="card-figures")

    def on_mount(self) -> None:
        if not self.query(".card-name"):
            # Removed before it mounted (a restart in the same burst of keys): its children
            # are gone or going (the name's row may go before the rest), and it is never
            # drawn.
            return
        self.set_compact(self.has_class("-compact"))
        self._ready = True
        self._draw_static()
        self.refresh_from(self.host.model)

    @property
    def live(self) -> bool:
        """False once the card is being replaced (its children may already be gone)."""
        return self._ready

    def shows(self, version: int) -> bool:
        """True when the card was last drawn from model ``version``."""
        return self._drawn_version == version

    def retire(self) -> None:
        """Stop drawing: the screen is removing this card."""
        self._ready = False

    def set_compact(self, compact: bool) -> None:
        """One line without a border (narrow terminals) or a box in the racer's colour."""
        self.set_class(compact, "-compact")
        self._drawn_version = -1  # the speed moves between the figures and the border
        self._shown.pop("badge", None)  # drawn on one-line cards only
        self.apply_colour()
        if self._ready:  # a finished race sends no more updates to redraw it
            self.refresh_from(self.host.model)

    @property
    def colour(self) -> str:
        """The racer's colour, adjusted to stay legible on the theme's background."""
        background = self.app.theme_variables.get("background", "#000000")
        return fmt.readable(self.spec.colour, background)

    def apply_colour(self) -> None:
        """Border and name in the racer's colour for the current theme."""
        # The border colour is per racer, so it is set here rather than in the stylesheet.
        compact = self.has_class("-compact")
        self.styles.border = ("none", self.colour) if compact else ("round", self.colour)
        self.styles.border_title_color = self.colour
        if self._ready:
            self._draw_static()
            sparkline = self.query_one(Sparkline)
            sparkline.min_color = sparkline.max_color = Color.parse(self.colour)

    def on_click(self) -> None:
        self.post_message(RacerSelected(self.spec.id))

    def set_spec(self, spec: RacerSpec) -> None:
        """New hyperparameters (or name) for the same racer, e.g. after an edit."""
        self.spec = spec
        # A card being removed (its racer left in the same burst) has no children to draw.
        if self._ready and self.children:
            self._draw_static()
            self._drawn_version = -1

    def _draw_static(self) -> None:
        name = f"[{self.colour}]{self.glyph}[/] [b]{escape(self.spec.name)}[/]"
        self.query_one(".card-name", Static).update(name)
        self.border_title = f"{self.glyph} [b]{escape(self.spec.name)}[/]"
        optimizer = self.spec.optimizer
        key = fmt.key_hparams(self.spec.hparams, optimizer=optimizer)
        hparams = f"{escape(fmt.flavored(optimizer, self.spec.flavor))} {escape(key)}"
        self.query_one(".card-hparams", Static).update(f"[$foreground-muted]{hparams}[/]")

    def refresh_from(self, model: RaceRecord) -> None:
        """Redraw from the model if it changed since the last draw."""
        if not self._ready or model.version == self._drawn_version:
            return
        self._drawn_version = model.version
        stats = model.stats.get(self.spec.id)
        status = model.status(self.spec.id)
        # Touch only what changed: every update re-renders (and may re-layout) a widget.
        compact = self.has_class("-compact")
        badge = fmt.badge(status)
        # The top line (name and badge) shows on one-line cards only; an update of a hidden
        # badge would still lay the whole screen out again.
        if compact and badge != self._shown.get("badge"):
            self._shown["badge"] = badge
            self.query_one(".card-badge", Static).update(badge)
        # In a box the speed sits on the bottom border beside the badge, which leaves the
        # sparkline the room the figures do not need.
        speed = self._speed(stats)
        subtitle = badge if self.host.test_mode or stats is None else f"{speed} · {badge}"
        if subtitle != self._shown.get("subtitle"):
            self._shown["subtitle"] = subtitle
            self.border_subtitle = subtitle
        figures = self._figures(stats, speed if compact else None, model.is_surface)
        if figures != self._shown.get("figures"):
            self._shown["figures"] = figures
            # The figures are auto-sized and a layout pass costs the whole screen: padded
            # to a multiple of FIGURES_STEP cells, they lay out again only when a number
            # gains or loses enough digits to change that.
            width = Content.from_markup(figures).cell_length
            padded_width = -(-width // FIGURES_STEP) * FIGURES_STEP
            resized = padded_width != self._figures_width
            self._figures_width = padded_width
            padded = figures + " " * (padded_width - width)
            self.query_one(".card-figures", Static).update(padded, layout=resized)
        spark = loss_spark_data(model, self.spec.id)
        if spark != self._shown.get("spark"):
            self._shown["spark"] = spark
            self.query_one(Sparkline).data = spark
        tooltip = stats.reason if stats is not None and stats.reason else None
        if tooltip != self.tooltip:
            self.tooltip = tooltip

    def _speed(self, stats: RacerStats | None) -> str:
        # No clocks in test mode.
        shown = fmt.DASH if self.host.test_mode or stats is None else f"{stats.steps_per_s:,.0f}/s"
        return f"[$foreground-muted]{shown}[/]"

    def _figures(self, stats: RacerStats | None, speed: str | None, surface: bool) -> str:
        """Loss (f on a surface), accuracy (and horizon); ``speed`` too when given (one-line
        cards)."""
        name = fmt.loss_name(surface)
        if stats is None:
            return f"{name} {fmt.DASH}"
        parts = [f"{name} [b]{fmt.num(stats.loss)}[/]"]
        # the validation accuracy where there is a split; else the training one, next to
        # the training loss it goes with
        if stats.val_accuracy is not None:
            parts.append(f"val acc {fmt.pct(stats.val_accuracy)}")
        elif stats.accuracy is not None:
            parts.append(f"acc {fmt.pct(stats.accuracy)}")
        if stats.horizon is not None:
            parts.append(f"ahead {fmt.num(stats.horizon)}")  # as the leaderboard shows it
        if speed is not None:
            parts.append(speed)
        return "  ".join(parts)
