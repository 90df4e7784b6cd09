"""The race screen (the app's default): header, racer cards, loss chart, table, event log.

It only renders ``app.model``: cards, table, header and log on every ModelUpdated (the
engine streams ~10 snapshots/s), the chart at most CHART_HZ times a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Container, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tui_optim.ui.messages import ModelUpdated, RacerSelected
from tui_optim.ui.widgets.event_log import EventLog
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.race_header import RaceHeader
from tui_optim.ui.widgets.racer_card import RacerCard

if TYPE_CHECKING:
    from tui_optim.ui.app import TuiOptimApp

#: Chart rebuilds per second at most (one build costs tens of milliseconds).
CHART_HZ = 4.0
#: Width below which cards become one line (matches the app's -narrow breakpoint).
COMPACT_BELOW = 110


class RaceScreen(Screen[None]):
    """Everything about the running race on one screen."""

    app: TuiOptimApp

    def __init__(self) -> None:
        super().__init__(id="race")
        self._chart_drawn_at = 0.0
        self._chart_pending = False
        self._racer_ids: list[int] = []
        self._race: object | None = None  # the RaceStarted the cards were built for

    def compose(self) -> ComposeResult:
        test_mode = self.app.test_mode
        yield RaceHeader(test_mode=test_mode, id="header")
        with Container(id="body"):
            with Horizontal(id="top"):
                yield VerticalScroll(id="cards")
                yield LossChart(id="chart")
            with Horizontal(id="bottom"):
                yield ParamTable(test_mode=test_mode, id="table")
                yield EventLog(test_mode=test_mode, id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cards").border_title = "racers"
        self.query_one("#chart").border_title = "loss"
        self.query_one("#table").border_title = "parameters"
        self.query_one("#events").border_title = "events"
        self.query_one(RaceHeader).scenario_label = self.app.scenario_label
        self.query_one(ParamTable).focus()
        self.redraw()

    @property
    def compact(self) -> bool:
        """True on narrow terminals: one-line cards, stacked panels."""
        return self.size.width < COMPACT_BELOW

    def on_resize(self) -> None:
        for card in self.query(RacerCard):
            if card.has_class("-compact") != self.compact:
                card.set_compact(self.compact)

    def on_screen_resume(self) -> None:
        self.redraw()

    def on_model_updated(self, message: ModelUpdated) -> None:
        self.redraw()

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        """Bring every widget up to date with the model (the chart throttled)."""
        model = self.app.model
        self._sync_cards()
        for card in self.query(RacerCard):
            if card.live:
                card.refresh_from(model)
        self.query_one(ParamTable).refresh_from(model)
        self.query_one(RaceHeader).refresh_from(model)
        self.query_one(EventLog).refresh_from(model)
        self._mark_selected()
        self._redraw_chart_soon()

    def _sync_cards(self) -> None:
        model = self.app.model
        ids = model.racer_ids()
        container = self.query_one("#cards", VerticalScroll)
        if ids == self._racer_ids and model.started is self._race:
            for card in container.query(RacerCard):
                spec = model.specs.get(card.spec.id)
                if spec is not None and spec != card.spec:
                    card.set_spec(spec)
            return
        self._racer_ids = ids
        self._race = model.started
        for old in container.query(RacerCard):
            old.retire()
        container.remove_children()
        cards = [RacerCard(model.specs[rid], test_mode=self.app.test_mode) for rid in ids]
        for card in cards:
            card.set_class(self.compact, "-compact")
        if cards:
            container.mount_all(cards)

    def _mark_selected(self) -> None:
        selected = self.app.selected_racer
        for card in self.query(RacerCard):
            card.set_class(card.spec.id == selected, "-selected")

    def _redraw_chart_soon(self) -> None:
        wait = 1.0 / CHART_HZ - (time.monotonic() - self._chart_drawn_at)
        if wait <= 0:
            self._redraw_chart()
        elif not self._chart_pending:
            self._chart_pending = True
            self.set_timer(wait, self._redraw_chart)

    def _redraw_chart(self) -> None:
        self._chart_pending = False
        self._chart_drawn_at = time.monotonic()
        self.query_one(LossChart).redraw(self.app.model)

    # ------------------------------------------------------------------ selection
    def on_racer_selected(self, message: RacerSelected) -> None:
        message.stop()
        self.app.selected_racer = message.racer
        table = self.query_one(ParamTable)
        if table.selected_racer != message.racer:
            table.select_racer(message.racer)
        self._mark_selected()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a table row opens that racer's detail screen."""
        event.stop()
        if event.row_key.value is not None:
            self.app.selected_racer = int(event.row_key.value)
            self.app.action_show_view("detail")

    # ------------------------------------------------------------------ chart/table keys
    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    @property
    def table(self) -> ParamTable:
        return self.query_one(ParamTable)
