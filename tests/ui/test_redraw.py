"""Redraw rate limiting: bursts collapse, the last update is never lost, and the race screen
(threaded chart, throttled cards and table) ends up showing the model's latest version."""

from __future__ import annotations

import time

from textual.app import App

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.testing import settle, short_scenario, wait_until
from tui_optim.ui.throttle import Throttle
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.race_header import RaceHeader

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
    """Real rates (throttled cards and table, chart built in a worker thread): once the race
    finished, every widget shows the final model."""
    app = TuiOptimApp(short_scenario("iris_grid", epochs=6), test_mode=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        assert screen.shows_latest()
        chart = screen.query_one(LossChart)
        assert not chart.synchronous
        assert chart.last_build_seconds > 0
        assert "finished" in str(screen.query_one(RaceHeader).render())
