"""AppHost: the app implements what screens and widgets may ask of it, and a screen or widget
in another app says what it needs instead of failing on a missing attribute later."""

from __future__ import annotations

import pytest
from textual.app import App

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.host import AppHost, host_of
from tui_optim.ui.screens.detail import DetailScreen
from tui_optim.ui.screens.grid import GridScreen
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.screens.surface import SurfaceScreen
from tui_optim.ui.testing import settle, short_scenario, wait_until
from tui_optim.ui.widgets.race_header import RaceHeader


def test_the_app_is_a_host() -> None:
    app = TuiOptimApp("quickstart", test_mode=True)
    assert isinstance(app, AppHost)
    assert host_of(app) is app


async def test_a_widget_in_another_app_names_the_protocol() -> None:
    async with App[None]().run_test():
        with pytest.raises(TypeError, match="AppHost"):
            _ = RaceHeader().host


async def test_views_say_why_a_race_has_none_once_it_started() -> None:
    app = TuiOptimApp(short_scenario("quickstart", epochs=2), test_mode=True)
    # Before the engine reported, nothing is known yet: no view is refused.
    assert GridScreen.unavailable(app) is None
    assert SurfaceScreen.unavailable(app) is None
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert GridScreen.unavailable(app) == "this scenario is not a grid"
        assert SurfaceScreen.unavailable(app) == "this scenario has no 2-D surface"
        assert DetailScreen.unavailable(app) is None  # the first racer is selected
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, RaceScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen), 5.0, "detail")
