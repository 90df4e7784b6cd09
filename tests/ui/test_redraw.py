"""Redraw rate limiting: bursts collapse, the last update is never lost, and the race screen
(threaded chart, throttled cards and table) ends up showing the model's latest version."""

from __future__ import annotations

import gc
import time
import weakref

import numpy as np
import psutil
from textual.app import App

from tui_optim.race.messages import HistoryChunk
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.chart_build import ChartPlan, Curve, draw_chart
from tui_optim.ui.chart_process import NICENESS, ChartProcess
from tui_optim.ui.screens.race import CARDS_PER_SLICE, RaceScreen
from tui_optim.ui.testing import caught_up, settle, short_scenario, wait_until
from tui_optim.ui.throttle import Throttle
from tui_optim.ui.widgets.event_log import EventLog
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.race_header import RaceHeader
from tui_optim.ui.widgets.racer_card import RacerCard

PERIOD = 0.3


class ThrottledApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[float] = []
        self.throttle = Throttle(self, lambda: self.runs.append(time.monotonic()), lambda: PERIOD)


async def test_a_burst_runs_once_at_once_and_once_at_the_end() -> None:
    app = ThrottledApp()
    async with app.run_test() as pilot:
        started = time.monotonic()
        for _ in range(10):
            app.throttle.request()
        assert len(app.runs) == 1  # the first request is not delayed
        assert app.throttle.pending
        await wait_until(pilot, lambda: not app.throttle.pending, 5.0, "the trailing run")
        assert len(app.runs) == 2  # nine requests collapsed into one trailing run
        assert app.runs[1] - started >= PERIOD * 0.9


async def test_now_runs_even_inside_the_period() -> None:
    app = ThrottledApp()
    async with app.run_test():
        app.throttle.request()
        app.throttle.request(now=True)
        assert len(app.runs) == 2


async def test_outside_test_mode_the_race_screen_catches_up_with_the_model() -> None:
    """Real rates (throttled cards and table, chart built by its own process): once the
    race finished, every widget shows the final model; quitting stops the chart process."""
    # Children of earlier tests in this worker (multiprocessing's resource tracker after a
    # Dask cluster, say) are not this app's.
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    app = TuiOptimApp(short_scenario("iris_grid", epochs=6), test_mode=False, pace=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        assert screen.shows_latest()
        chart = screen.query_one(LossChart)
        assert not chart.synchronous
        assert chart.last_build_seconds > 0
        assert "finished" in str(screen.query_one(RaceHeader).render())
        chart_pid = chart._builder.pid
        assert chart_pid is not None and psutil.pid_exists(chart_pid)
        assert "loss (log) vs step" in str(chart.render())
    assert not psutil.pid_exists(chart_pid)
    # The engine child was told to close; on a loaded machine it may take a moment to go.
    ours = [c for c in psutil.Process().children(recursive=True) if c.pid not in before]
    _, alive = psutil.wait_procs(ours, timeout=10)
    assert alive == []


def test_the_chart_process_draws_what_the_app_would_and_yields_the_cpus() -> None:
    """The child's text equals an in-process build of the same plan (one drawing function);
    it runs at a lower priority than the app and the engine."""
    from tui_optim.ui.plotext_private import new_figure

    x = np.arange(50.0)
    plan = ChartPlan(
        60,
        16,
        "dark",
        None,
        [Curve(x, np.exp(-x / 9) + 0.01, (200, 40, 40), label="sgd")],
        [],
        "loss (log) vs step",
        True,
        labels=True,
    )
    builder = ChartProcess()
    try:
        assert builder.build(plan) == draw_chart(new_figure(), plan)
        assert builder.pid is not None
        own = psutil.Process().nice()
        assert psutil.Process(builder.pid).nice() == min(19, own + NICENESS)
    finally:
        builder.close()
    assert builder.pid is None


async def test_cards_redraw_a_slice_at_a_time_and_the_screen_catches_up_after_the_last() -> None:
    """A key pressed during a redraw of 24 cards waits for one slice, not all 24; a snapshot
    still waits for the last slice (shows_latest)."""
    app = TuiOptimApp(short_scenario("iris_grid", epochs=2), pace=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        cards = list(screen.query(RacerCard))
        assert len(cards) == 24 > CARDS_PER_SLICE
        app.model.version += 1  # what apply() does: every widget is one version behind
        screen.redraw()
        version = app.model.version
        assert sum(card.shows(version) for card in cards) == CARDS_PER_SLICE
        assert not screen.shows_latest()
        await wait_until(pilot, screen.shows_latest, 10.0, "the last slice of cards")
        assert all(card.shows(version) for card in cards)


async def test_a_badge_hidden_on_a_wide_card_shows_when_the_card_becomes_one_line() -> None:
    app = TuiOptimApp(short_scenario("iris_131", epochs=3), pace=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        card = app.screen.query_one(RacerCard)
        badge = card.query_one(".card-badge")
        assert not card.has_class("-compact") and "finished" not in str(badge.render())
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: card.has_class("-compact"), 10.0, "one-line cards")
        await wait_until(pilot, lambda: "finished" in str(badge.render()), 10.0, "the badge")


class _Cycle:
    """Garbage only the cycle collector can free."""

    def __init__(self) -> None:
        self.me = self


async def test_a_race_is_frozen_for_the_collector_and_a_restart_unfreezes_it() -> None:
    """Once the cards are drawn the heap is frozen (full collections stop walking it); a
    restart unfreezes it before the old cards go, so the old race's garbage is collected."""
    app = TuiOptimApp(short_scenario("iris_131", epochs=3), pace=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        card = app.screen.query_one(RacerCard)
        assert not any(item is card for item in gc.get_objects())  # frozen: not walked
        cycle = _Cycle()
        probe = weakref.ref(cycle)
        gc.freeze()  # frozen with the race, as if it had been there when the cards were drawn
        del cycle
        gc.collect()
        assert probe() is not None  # frozen garbage stays
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen.query_one(RacerCard) is not card, 10.0, "cards")
        await settle(pilot)
        gc.collect()
        assert probe() is None
        assert gc.get_freeze_count() > 0  # the new race is frozen in its turn
    gc.unfreeze()  # the test process goes on creating and dropping apps


async def test_the_event_log_grows_without_a_layout_and_its_scrollbar_follows() -> None:
    """The log's longer virtual size repaints it and its scrollbar, not the whole screen;
    it stays scrolled to its newest line."""
    app = TuiOptimApp(short_scenario("iris_grid", epochs=40), pace=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(EventLog)
        lines = len(log.lines)
        assert lines > log.scrollable_content_region.height  # enough events to scroll
        assert log.show_vertical_scrollbar
        assert log.vertical_scrollbar.window_virtual_size == lines
        assert log.scroll_y == log.max_scroll_y > 0
        layouts_before = log._layout_updates
        log.write("one more line")
        await pilot.pause()
        assert log._layout_updates == layouts_before
        assert log.vertical_scrollbar.window_virtual_size == lines + 1
        await wait_until(pilot, lambda: log.scroll_y == log.max_scroll_y, 5.0, "the newest line")


async def test_a_loss_of_exactly_zero_keeps_the_log_axis_and_is_left_out() -> None:
    """A cross-entropy can underflow to 0.0 (the quickstart's RMSprop does): the chart stays
    logarithmic, leaves the zeros out and says so; a negative value still makes it linear."""
    app = TuiOptimApp(short_scenario("iris_131", epochs=3), pace=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        chart = screen.query_one(LossChart)
        history = next(iter(app.model.histories.values()))
        last_step = float(history.arrays()["step"][-1])

        def add_point(loss: float) -> None:
            nonlocal last_step
            last_step += 1
            point = [np.array([value]) for value in (last_step, 3.0, 0.1, loss)]
            nan = np.array([np.nan])
            history.extend(HistoryChunk(*point, nan, nan, nan, nan, nan, nan, nan, point[0]))
            app.model.version += 1
            screen.redraw()

        add_point(0.0)
        await caught_up(pilot)
        assert "loss (log) vs step, zeros not drawn" in str(chart.render())
        add_point(-1.0)
        await caught_up(pilot)
        assert "loss (linear: some values < 0) vs step" in str(chart.render())
