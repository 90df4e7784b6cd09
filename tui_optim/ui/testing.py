"""Helpers for driving the app deterministically (pilot tests, snapshots, screenshots).

A snapshot must be taken with the engine finished or paused, never while it still produces:
:func:`settle` waits for that and for the throttled chart to draw the last model version.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tui_optim.scenario import Scenario

#: Race states after which nothing changes on screen until the user acts.
SETTLED_STATES = ("finished", "paused", "stopped")


def short_scenario(
    request: str | Path, epochs: int | None = None, steps: int | None = None
) -> Scenario:
    """A built-in or file scenario cut short so a test race finishes in a second or two."""
    from tui_optim.ui.app import load_scenario_request

    scenario = load_scenario_request(request)
    if epochs is not None and scenario.epochs is not None:
        scenario = dataclasses.replace(scenario, epochs=min(epochs, scenario.epochs))
    if steps is not None and scenario.steps is not None:
        scenario = dataclasses.replace(scenario, steps=min(steps, scenario.steps))
    return scenario


async def wait_until(
    pilot: Pilot[int], predicate: Callable[[], bool], timeout: float = 30.0, what: str = ""
) -> None:
    """Let the app run until ``predicate()`` is true; fail loudly after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what or predicate}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot[int], timeout: float = 60.0) -> None:
    """Wait until the race finished/paused (or the engine stopped) and the screen caught up."""
    from tui_optim.ui.host import host_of

    host = host_of(pilot.app)
    await wait_until(
        pilot,
        lambda: (
            (host.model.snapshot_count > 0 and host.model.state in SETTLED_STATES)
            or host.model.engine_error is not None
        ),
        timeout,
        "the race to finish or pause",
    )
    await caught_up(pilot)


async def sweep_finished(pilot: Pilot[int], timeout: float = 90.0) -> None:
    """Wait until the sweep screen's sweep is complete (or failed) and the screen caught up."""
    from tui_optim.ui.screens.sweep import SweepScreen

    def done() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, SweepScreen) and screen.finished

    await wait_until(pilot, done, timeout, "the sweep to finish")
    await caught_up(pilot)


async def caught_up(pilot: Pilot[int], attempts: int = 20) -> None:
    """Wait until the active screen shows the model's latest version (its ``shows_latest``,
    when it has one), then until the screen stops changing (two identical renders in a row):
    on a loaded machine a redraw can lag, and a snapshot must not catch it half-way."""
    from tui_optim.ui.screens.race import CHART_HZ

    def screen_shows_latest() -> bool:
        shows_latest = getattr(pilot.app.screen, "shows_latest", None)
        return shows_latest is None or bool(shows_latest())

    await pilot.pause()
    await wait_until(pilot, screen_shows_latest, 60.0, "the screen to show the latest model")
    await pilot.wait_for_scheduled_animations()
    await asyncio.sleep(0)
    await pilot.pause()
    previous = pilot.app.export_screenshot()
    for _ in range(attempts):
        await pilot.pause(1.0 / CHART_HZ + 0.05)
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current


async def click_button(pilot: Pilot[int], selector: str) -> None:
    """Click a button the way a person does: not within its 0.2 s "pressed" animation, during
    which Textual ignores further clicks on it."""
    await pilot.pause(0.25)
    await pilot.click(selector)
    await pilot.pause()
