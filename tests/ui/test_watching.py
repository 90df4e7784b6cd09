"""Pilot tests of watching a race: selection, pace, confirmations, replay and the inspector."""

from __future__ import annotations

import pytest

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.testing import settle, short_scenario
from tui_optim.ui.widgets.param_table import ParamTable

SIZE = (120, 40)


def quick_app(name: str = "quickstart", epochs: int = 3, **options: object) -> TuiOptimApp:
    return TuiOptimApp(short_scenario(name, epochs=epochs), test_mode=True, **options)


async def test_two_selections_in_flight_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two table highlights queued together used to bounce the cursor between them forever
    (the app at 100% CPU after the race finished)."""
    calls: list[int] = []
    original = RaceScreen.on_racer_selected

    def counting(self: RaceScreen, message: object) -> None:
        calls.append(1)
        original(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(RaceScreen, "on_racer_selected", counting)
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ParamTable)
        table.move_cursor(row=1)
        table.move_cursor(row=2)
        await pilot.pause(0.5)
        calls.clear()
        await pilot.pause(0.5)
        assert calls == []
        assert app.selected_racer == table.selected_racer
