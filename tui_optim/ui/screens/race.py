"""The race screen (the app's default): header, racer cards, loss chart, table, event log.

It only renders ``host.model``: cards, table, header and log on every ModelUpdated (the
engine streams ~10 snapshots/s), the chart at most CHART_HZ times a second. The chart's and
the table's keys (log axis, x axis, smoothing, sort) are this screen's.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, VerticalScroll
from textual.theme import Theme
from textual.widgets import DataTable, Footer

from tui_optim.ui import format as fmt
from tui_optim.ui.host import HostedScreen
from tui_optim.ui.messages import ModelUpdated, RacerSelected, RaceStatusChanged
from tui_optim.ui.throttle import Throttle
from tui_optim.ui.widgets.event_log import EventLog
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.race_header import RaceHeader
from tui_optim.ui.widgets.racer_card import RacerCard

#: Chart rebuilds per second at most (one build costs tens of milliseconds).
CHART_HZ = 2.0
#: Card and table redraws per second at most: faster changing numbers cannot be read, and
#: re-rendering two dozen cards or rows costs the event loop what a key press waits for.
#: Cards and table are redrawn together, so they always show the same snapshot.
FIGURES_HZ = 1.0
#: Cards redrawn (and painted) per slice: a key pressed during a redraw of two dozen cards
#: waits for one slice, not for all of them.
CARDS_PER_SLICE = 6
#: Width below which cards become one line (matches the app's -narrow breakpoint).
COMPACT_BELOW = 110


class RaceScreen(HostedScreen[None]):
    """Everything about the running race on one screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_log", "Log y", show=False, tooltip="loss axis: log or linear"),
        Binding(
            "x",
            "cycle_x_axis",
            "X axis",
            show=False,
            tooltip="x: step, epoch, seconds, grad evals",
        ),
        Binding("s", "toggle_smoothing", "Smooth", show=False, tooltip="EMA smoothing on/off"),
        Binding("c", "cycle_sort", "Sort", show=False, tooltip="sort the table by the next column"),
        Binding("C", "reverse_sort", "Reverse sort", show=False, tooltip="reverse the sort order"),
    ]

    def __init__(self) -> None:
        super().__init__(id="race")
        # Test mode draws every update: a snapshot must show the model it waited for.
        unthrottled = self.host.test_mode
        self._figures_throttle = Throttle(
            self, self._redraw_figures, lambda: 0 if unthrottled else 1 / FIGURES_HZ
        )
        self._chart_throttle = Throttle(self, self._redraw_chart, self._chart_period)
        self._racer_ids: list[int] = []
        self._cards: list[RacerCard] = []
        self._race: object | None = None  # the RaceStarted the cards were built for
        self._shown_version = -1
        self._cards_due: list[RacerCard] = []  # the rest of a redraw, drawn slice by slice

    def compose(self) -> ComposeResult:
        yield RaceHeader(id="header")
        with Container(id="body"):
            with Horizontal(id="top"):
                yield VerticalScroll(id="cards")
                yield LossChart(id="chart")
            with Horizontal(id="bottom"):
                yield ParamTable(id="table")
                yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cards").border_title = "racers"
        self.query_one("#chart").border_title = self.chart_title()
        self.query_one("#table").border_title = "parameters"
        self.query_one("#events").border_title = "events"
        self.query_one(RaceHeader).scenario_label = self.host.scenario_label
        # focused for its keys, without scrolling the screen to it: at 80x24 the screen
        # opens on the cards and the chart, whenever the layout settles
        self.query_one(ParamTable).focus(scroll_visible=False)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.redraw()

    def chart_title(self) -> str:
        if self.host.model.is_surface:
            return "f at each racer's point"
        return "training loss (whole training set)"

    @property
    def compact(self) -> bool:
        """True on narrow terminals: one-line cards, stacked panels."""
        return self.size.width < COMPACT_BELOW

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Stacked panels (a narrow terminal) scroll the body: the panel that takes the focus
        # (tab) is brought fully into view, the table and the log included.
        if self.compact:
            for panel_id in ("cards", "table", "events"):
                panel = self.query_one(f"#{panel_id}")
                if event.widget is panel or panel in event.widget.ancestors:
                    self.query_one("#body").scroll_to_widget(panel, animate=False, top=True)
                    return

    def on_resize(self) -> None:
        for card in self._cards:
            if card.has_class("-compact") != self.compact:
                card.set_compact(self.compact)

    def on_screen_resume(self) -> None:
        self.redraw()

    def on_model_updated(self, message: ModelUpdated) -> None:
        self.redraw()

    def on_race_status_changed(self, message: RaceStatusChanged) -> None:
        self._redraw_header()

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        """Bring every widget up to date with the model (cards, table and chart throttled)."""
        model = self.host.model
        self._shown_version = model.version
        chart = self.query_one("#chart")
        if chart.border_title != self.chart_title():  # another scenario opened
            chart.border_title = self.chart_title()
        self._sync_cards()
        self._redraw_header()
        self._mark_selected()
        # A paused or finished race changes no more: its last figures show at once, on
        # cards, table and chart alike, instead of at each one's next turn.
        settled = model.state != "running"
        self._figures_throttle.request(now=settled)
        self._chart_throttle.request(now=settled)

    def _redraw_header(self) -> None:
        header = self.query_one(RaceHeader)
        header.pace = self.host.pace
        header.replay = self.host.scrub_position
        header.refresh_from(self.host.model)

    def shows_latest(self) -> bool:
        """True when every widget shows the model's current version and no redraw is due
        (what a snapshot waits for: a deterministic condition, not a pause)."""
        version = self.host.model.version
        throttles = (self._figures_throttle, self._chart_throttle)
        return (
            self._shown_version == version
            and not any(throttle.pending for throttle in throttles)
            and not self._cards_due
            and self.query_one(LossChart).shows(version)
        )

    def _redraw_figures(self) -> None:
        self._redraw_table()
        self._redraw_cards()

    def _redraw_cards(self) -> None:
        already_due = bool(self._cards_due)
        self._cards_due = list(self._cards)
        if not already_due:  # else the scheduled slice carries on with the new list
            self._redraw_card_slice()

    def _redraw_card_slice(self) -> None:
        """Redraw the next few due cards; the rest after the screen has painted these."""
        model = self.host.model
        due = self._cards_due
        for card in due[:CARDS_PER_SLICE]:
            if card.live:
                card.refresh_from(model)
        del due[:CARDS_PER_SLICE]
        if due:
            self.call_after_refresh(self._redraw_card_slice)
        else:
            # After the cards: each write to the log lays the screen out again.
            self.query_one(EventLog).refresh_from(model)

    def _redraw_table(self) -> None:
        self.query_one(ParamTable).refresh_from(self.host.model)

    def _chart_period(self) -> float:
        # A slow build (many racers, a slow machine) lowers the rate: drawing must never
        # take more than about a third of the time.
        return max(1.0 / CHART_HZ, 3.0 * self.query_one(LossChart).last_build_seconds)

    def _redraw_chart(self) -> None:
        self.query_one(LossChart).redraw(self.host.model)

    def _sync_cards(self) -> None:
        model = self.host.model
        ids = model.racer_ids()
        container = self.query_one("#cards", VerticalScroll)
        if ids == self._racer_ids and model.started is self._race:
            for card in self._cards:
                spec = model.specs.get(card.spec.id)
                if spec is not None and spec != card.spec:
                    card.set_spec(spec)
            return
        self._racer_ids = ids
        self._race = model.started
        # What exists once a race's cards are drawn (modules, styles, widgets) mostly lives
        # as long as the race: frozen, the collector stops walking it, where a full
        # collection took up to 250 ms of the event loop with two dozen racers. Unfrozen
        # when the race is replaced, so that its garbage is collected (_freeze_heap).
        gc.unfreeze()
        for old in self._cards:
            old.retire()
        container.remove_children()
        cards = [
            RacerCard(model.specs[rid], glyph=fmt.racer_glyph(index))
            for index, rid in enumerate(ids)
        ]
        for card in cards:
            card.set_class(self.compact, "-compact")
        # Kept here: querying the DOM for two dozen cards on every update costs milliseconds.
        self._cards = cards
        if cards:
            container.mount_all(cards)
        self.call_after_refresh(self._freeze_heap)

    @staticmethod
    def _freeze_heap() -> None:
        # Collected first: garbage frozen now would stay until the next race. One full
        # collection when a race starts instead of one every few seconds while it runs.
        gc.collect()
        gc.freeze()

    def _mark_selected(self) -> None:
        selected = self.host.selected_racer
        for card in self._cards:
            card.set_class(card.spec.id == selected, "-selected")

    # ------------------------------------------------------------------ selection
    def on_racer_selected(self, message: RacerSelected) -> None:
        message.stop()
        self.host.selected_racer = message.racer
        table = self.query_one(ParamTable)
        if not message.from_table and table.selected_racer != message.racer:
            table.select_racer(message.racer)
        self._mark_selected()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a table row opens that racer's detail screen."""
        event.stop()
        if event.row_key.value is not None:
            from tui_optim.ui.screens.detail import DetailScreen

            self.host.selected_racer = int(event.row_key.value)
            self.host.show_view(DetailScreen)

    # ------------------------------------------------------------------ chart/table keys
    def action_toggle_log(self) -> None:
        log = self.chart.toggle_log()
        self.notify(f"loss axis: {'log' if log else 'linear'}", timeout=2)

    def action_cycle_x_axis(self) -> None:
        self.notify(f"x axis: {self.chart.cycle_x_axis()}", timeout=2)

    def action_toggle_smoothing(self) -> None:
        smoothing = self.chart.toggle_smoothing()
        self.notify(f"smoothing: {'EMA' if smoothing else 'off'}", timeout=2)

    def action_cycle_sort(self) -> None:
        self.notify(f"sorted by {self.table.cycle_sort()}", timeout=2)

    def action_reverse_sort(self) -> None:
        if self.table.sort_column is not None:
            self.table.sort_by(self.table.sort_column)

    def _theme_changed(self, theme: Theme) -> None:
        self.call_after_refresh(self.recolour)  # once the new theme's variables apply

    def recolour(self) -> None:
        """The theme changed: racer colours are re-chosen for its background."""
        for card in self._cards:
            card.apply_colour()
        table = self.query_one(ParamTable)
        table.forget_drawn()
        table.refresh_from(self.host.model)

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    @property
    def table(self) -> ParamTable:
        return self.query_one(ParamTable)
