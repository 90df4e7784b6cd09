"""SVG snapshots of the race screen, help, the add-racer form and the error screen.

Every snapshot runs in test mode (no clocks, no speeds, fixed theme) and is taken after the
shortened race finished, so the pictures do not depend on timing. Update with
``pytest tests/snapshots --snapshot-update`` and look at the SVGs before accepting them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tui_optim.scenario import DEFAULT_SCENARIO
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.open_scenario import builtin_names
from tui_optim.ui.testing import caught_up, settle, short_scenario

HERE = Path(__file__).parent
#: Epochs (MLP scenarios) or steps (surfaces) each snapshot race runs: enough for curves.
EPOCHS = 12
STEPS = 40
#: Every epoch on digits ends with the loss of all 1437 training rows for every racer (a
#: point of each curve): three points draw the curves at a fraction of twelve's time.
DIGITS_EPOCHS = 3


def race_app(name: str) -> TuiOptimApp:
    scenario = short_scenario(name, epochs=EPOCHS, steps=STEPS)
    if scenario.data is not None and scenario.data.source == "digits":
        scenario = short_scenario(name, epochs=DIGITS_EPOCHS)
    return TuiOptimApp(scenario, test_mode=True)


async def finished(pilot: Pilot[int]) -> None:
    await settle(pilot)



def race_names() -> list[str]:
    """The built-ins that are races (a sweep opens the sweep screen, snapshotted apart)."""
    from tui_optim.scenario import load_scenario

    return [name for name in builtin_names() if load_scenario(name, check=False).sweep is None]

class TestRaceScreen:
    """The race screen of every built-in scenario after a short race, small and large."""

    @pytest.mark.parametrize("name", race_names())
    def test_race_80x24(self, name: str, snap_compare) -> None:
        """80x24: one-line cards, panels stacked (the table and log scroll below)."""
        assert snap_compare(race_app(name), terminal_size=(80, 24), run_before=finished)

    @pytest.mark.parametrize("name", race_names())
    def test_race_160x50(self, name: str, snap_compare) -> None:
        """160x50: cards in two columns beside the chart, table and event log below."""
        assert snap_compare(race_app(name), terminal_size=(160, 50), run_before=finished)


class TestDivergedRacer:
    """A racer with an absurd learning rate diverges: ✖ badge, reason in the log, chart mark."""

    def test_diverged_racer(self, snap_compare) -> None:
        from tui_optim.engine.optimizers import OPTIMIZERS
        from tui_optim.scenario import RacerConfig

        scenario = short_scenario(DEFAULT_SCENARIO, epochs=EPOCHS, steps=STEPS)
        hot = RacerConfig("sgd-hot", "sgd", OPTIMIZERS["sgd"].validate({"lr": 1e4}))
        scenario = dataclasses.replace(scenario, racers=(*scenario.racers[:3], hot))
        app = TuiOptimApp(scenario, test_mode=True)
        assert snap_compare(app, terminal_size=(160, 50), run_before=finished)


class TestDialogs:
    """Help and the add-racer form, over a finished race."""

    def test_help(self, snap_compare) -> None:
        """Every key, then each optimizer's update rule (scrolled to the top)."""

        async def run_before(pilot: Pilot[int]) -> None:
            await settle(pilot)
            await pilot.press("question_mark")
            await caught_up(pilot)

        assert snap_compare(
            race_app(DEFAULT_SCENARIO), terminal_size=(120, 40), run_before=run_before
        )

    def test_add_racer_form(self, snap_compare) -> None:
        """The add form with the default optimizer's defaults filled in."""

        async def run_before(pilot: Pilot[int]) -> None:
            await settle(pilot)
            await pilot.press("a")
            await caught_up(pilot)

        assert snap_compare(
            race_app(DEFAULT_SCENARIO), terminal_size=(120, 40), run_before=run_before
        )

    def test_add_racer_form_rejects_bad_lr(self, snap_compare) -> None:
        """A negative learning rate: the message names the field and the allowed range."""

        async def run_before(pilot: Pilot[int]) -> None:
            await settle(pilot)
            await pilot.press("a")
            await caught_up(pilot)
            pilot.app.screen.query_one("#hp-lr").value = "-1"  # type: ignore[attr-defined]
            await pilot.click("#submit")
            await caught_up(pilot)

        assert snap_compare(
            race_app(DEFAULT_SCENARIO), terminal_size=(120, 40), run_before=run_before
        )


class TestErrorScreen:
    """An invalid scenario file: one line naming the problem, no traceback."""

    def test_invalid_scenario(self, snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(HERE)
        app = TuiOptimApp("bad_scenario.toml", test_mode=True)
        assert snap_compare(app, terminal_size=(100, 24))
