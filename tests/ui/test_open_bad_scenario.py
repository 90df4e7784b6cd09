"""Opening a broken scenario file with `o` shows its one-line error and leaves the running
race alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import Input

from tui_optim.scenario import DEFAULT_SCENARIO, load_scenario
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.error import ErrorScreen
from tui_optim.ui.screens.open_scenario import OpenScenarioScreen
from tui_optim.ui.testing import click_button, wait_until


async def test_a_deeply_nested_file_opened_with_o_does_not_stop_the_race(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    long_race = dataclasses.replace(load_scenario(DEFAULT_SCENARIO, check=False), epochs=10**5)
    app = TuiOptimApp(long_race, test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.model.step > 0, what="the race running")
        process, started = app.process, app.model.started
        assert process is not None and process.alive
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScenarioScreen)
        app.screen.query_one("#path", Input).value = str(deep)
        await click_button(pilot, "#submit")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen), what="error screen")
        await wait_until(pilot, lambda: bool(app.screen.query("#error-message")), what="message")
        message = str(app.screen.query_one("#error-message").render())
        assert "nested too deeply" in message and "Traceback" not in message
        assert app.process is process and process.alive and app.model.started is started
        step = app.model.step
        await wait_until(pilot, lambda: app.model.step > step, what="the race going on")
        await pilot.press("q")
