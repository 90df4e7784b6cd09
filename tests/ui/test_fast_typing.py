"""Fast typing must not end the app: keys posted in bursts, faster than screens mount and
unmount (as a terminal delivers them when someone types quickly or holds a key)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual import events

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.testing import short_scenario

SIZE = (120, 40)
#: Every key the app binds, the dialogs' keys and navigation; not "q" (it quits, as it should).
KEYS = [*"abcdefgnrRlxsCvot?0123456789", "space", "ctrl+p", "ctrl+e", "pagedown", "pageup",
        "escape", "enter", "tab", "shift+tab", "up", "down", "left", "right", "home", "end",
        "backspace", "delete"]  # fmt: skip


def burst(app: TuiOptimApp, *keys: str) -> None:
    """Queue ``keys`` at once, without waiting for any of them to be handled."""
    for key in keys:
        character = " " if key == "space" else key if len(key) == 1 else None
        app.post_message(events.Key(key, character))


async def test_page_down_in_the_palette_before_it_is_laid_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = TuiOptimApp(short_scenario("quickstart", epochs=2), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        burst(app, "ctrl+p", "a", "pagedown")
        await pilot.pause(0.5)
        assert app.is_running and app.return_code is None
        await pilot.press("escape")


async def test_a_seeded_storm_of_random_keys_does_not_end_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the storm saves screenshots and exports where it stands
    rng = random.Random(0)
    app = TuiOptimApp(short_scenario("iris_grid", epochs=3), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        typed = 0
        while typed < 300:
            keys = [rng.choice(KEYS) for _ in range(rng.randint(1, 6))]
            burst(app, *keys)
            typed += len(keys)
            await pilot.pause(rng.choice([0, 0, 0.01, 0.05]))
            if app.return_code is not None:
                break  # quit through the command palette: a normal end
        assert app.return_code in (None, 0)
