"""Pilot tests of the race app against the real engine: every key, every form, engine faults.

Each test runs a built-in scenario cut to a few epochs so the race finishes in about a
second; engine processes are counted with psutil to prove quitting leaves none behind.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.race.messages import AddRacer, RacerSpec
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.add_racer import AddRacerScreen, HparamForm
from tui_optim.ui.screens.edit import EditScreen, ForkScreen
from tui_optim.ui.screens.error import ErrorScreen
from tui_optim.ui.screens.export import ConfirmScreen, ExportScreen
from tui_optim.ui.screens.help import HelpScreen
from tui_optim.ui.screens.open_scenario import OpenScenarioScreen
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.testing import caught_up, click_button, settle, short_scenario, wait_until
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.race_header import RaceHeader

SIZE = (120, 40)
EPOCHS = 3


def children() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


def make_app(epochs: int = EPOCHS, *, paused: bool = False) -> TuiOptimApp:
    from tui_optim.scenario import DEFAULT_SCENARIO

    return TuiOptimApp(
        short_scenario(DEFAULT_SCENARIO, epochs=epochs), test_mode=True, paused=paused
    )


Form = TypeVar("Form", bound=HparamForm)


async def open_form(pilot: Pilot[int], key: str, kind: type[Form]) -> Form:
    """Press ``key`` and wait until the form's fields are mounted (they build asynchronously)."""
    await pilot.press(key)

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, kind) and screen.fields_optimizer is not None

    await wait_until(pilot, ready, what=f"the {kind.__name__} fields")
    form = pilot.app.screen
    assert isinstance(form, kind)
    return form


def header_text(app: TuiOptimApp) -> str:
    return str(app.screen.query_one(RaceHeader).render())


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """Every test must leave no engine process behind."""
    before = {p.pid for p in children()}
    yield
    leftover = [p for p in children() if p.pid not in before and p.is_running()]
    _, alive = psutil.wait_procs(leftover, timeout=5)
    assert alive == [], f"child processes left behind: {alive}"


# ---------------------------------------------------------------------- race keys
async def test_race_runs_to_the_end_and_shows_every_racer() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RaceScreen)
        assert app.model.state == "finished"
        table = app.screen.query_one(ParamTable)
        assert table.row_count == len(app.model.specs) > 0
        assert "finished" in header_text(app)
        assert app.model.started is not None and app.model.started.title in header_text(app)


async def test_space_pauses_and_resumes_and_n_steps_one_epoch() -> None:
    app = make_app(epochs=100_000)  # the whole scenario: it must not finish during the test
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.state == "running", what="running")
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.state == "paused", what="paused")
        paused_at = app.model.epoch
        await pilot.pause(0.3)
        assert app.model.epoch == paused_at  # nothing moves while paused
        await pilot.press("n")
        await wait_until(pilot, lambda: app.model.epoch >= paused_at + 1, what="one epoch")
        await wait_until(pilot, lambda: app.model.state == "paused", what="paused again")
        assert app.model.epoch < paused_at + 2
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.state == "running", what="resumed")
        await pilot.press("q")


@pytest.mark.parametrize("key", ["r", "R"])
async def test_restart_keys_start_the_race_again(key: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first_race = app.model.started
        seed = first_race.seed if first_race is not None else None
        await pilot.press(key)
        await wait_until(pilot, lambda: app.model.started is not first_race, what="new race")
        await settle(pilot)
        assert app.model.state == "finished"
        assert app.model.started is not None
        if key == "r":
            assert app.model.started.seed == seed
        else:
            assert app.model.started.seed != seed


async def test_chart_keys_toggle_log_axis_and_smoothing() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = app.screen.query_one(LossChart)
        assert chart.log_y and chart.x_axis == "step" and not chart.smoothing
        await pilot.press("l", "x", "s")
        await caught_up(pilot)
        assert not chart.log_y and chart.x_axis == "epoch" and chart.smoothing
        await pilot.press("x", "x")
        assert chart.x_axis == "grad_evals"
        await caught_up(pilot)
        assert "vs gradient evaluations" in str(chart.render())
        await pilot.press("x")
        assert chart.x_axis == "step"
        await pilot.press("l")
        await caught_up(pilot)
        assert chart.log_y


async def test_sort_keys_sort_the_table() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ParamTable)
        await pilot.press("c")
        assert table.sort_column == "name"
        names = [str(table.get_row_at(i)[0].key) for i in range(table.row_count)]
        assert names == sorted(names)
        await pilot.press("C")
        names = [str(table.get_row_at(i)[0].key) for i in range(table.row_count)]
        assert names == sorted(names, reverse=True)
        for _ in range(2):  # name -> lr -> loss
            await pilot.press("c")
        assert table.sort_column == "loss"
        column = table.get_column_index("loss")
        losses = [table.get_row_at(i)[column].sort_key() for i in range(table.row_count)]
        assert losses == sorted(losses)


async def test_theme_key_switches_light_and_dark() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"
        await settle(pilot)


async def test_screenshot_key_writes_an_svg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        shots = list(tmp_path.glob("*.svg"))
        assert len(shots) == 1 and shots[0].read_text().startswith("<svg")


@pytest.mark.parametrize("key", ["g", "v", "b", "enter"])
async def test_view_keys_open_a_view_or_say_why_not(key: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)

        # Either a view screen is on top, or the user was told why not (never a crash).
        def answered() -> bool:
            return not isinstance(app.screen, RaceScreen) or bool(app._notifications)  # type: ignore[attr-defined]

        await wait_until(pilot, answered, 10, f"an answer to {key}")
        if not isinstance(app.screen, RaceScreen):
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), 10, "escape")


async def test_help_lists_every_key_and_every_optimizer_rule() -> None:
    from tui_optim.engine.optimizers import OPTIMIZERS

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(app.screen.query_one("#help-keys", Static).content)  # a table of keys
        text += console.export_text()
        for binding in [*app.BINDINGS, *RaceScreen.BINDINGS]:
            assert binding.description in text  # type: ignore[union-attr]
        for name in OPTIMIZERS:
            assert name in text
        await pilot.press("escape")
        assert isinstance(app.screen, RaceScreen)


async def test_command_palette_offers_every_key() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RaceScreen)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for binding in [*app.BINDINGS, *RaceScreen.BINDINGS]:
            assert any(binding.description in title for title in titles)  # type: ignore[union-attr]
        # A screen's key runs on that screen: the race screen's "Log y" switches its chart.
        chart = app.screen.query_one(LossChart)
        log_y = next(c for c in app.get_system_commands(app.screen) if c.title == "Log y (l)")
        await log_y.callback()
        assert not chart.log_y


# ---------------------------------------------------------------------- forms
async def test_add_racer_form_adds_a_racer() -> None:
    app = make_app(epochs=400, paused=True)  # a finished race refuses new racers
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.model.specs), what="racers")
        before = len(app.model.specs)
        form = await open_form(pilot, "a", AddRacerScreen)
        form.query_one("#racer-name", Input).value = "newcomer"
        form.query_one("#hp-lr", Input).value = "0.005"
        await click_button(pilot, "#submit")
        await wait_until(pilot, lambda: len(app.model.specs) == before + 1, what="new racer")
        added = list(app.model.specs.values())[-1]
        assert added.name == "newcomer" and added.hparams["lr"] == pytest.approx(0.005)
        await pilot.press("q")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("-1", "lr must be"), ("abc", "lr must be"), ("", "lr is empty"), ("nan", "lr must be")],
)
async def test_add_racer_form_rejects_invalid_input_and_keeps_it(typed: str, expected: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_form(pilot, "a", AddRacerScreen)
        form.query_one("#racer-name", Input).value = "keep me"
        form.query_one("#hp-lr", Input).value = typed
        await click_button(pilot, "#submit")
        await pilot.pause()
        assert app.screen is form  # still open
        assert expected in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#hp-lr", Input).value == typed  # nothing lost
        assert form.query_one("#racer-name", Input).value == "keep me"
        await pilot.press("escape")
        assert isinstance(app.screen, RaceScreen)


async def test_add_racer_form_fills_defaults_for_each_optimizer() -> None:
    from tui_optim.engine.optimizers import OPTIMIZERS

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_form(pilot, "a", AddRacerScreen)
        for name, optimizer in list(OPTIMIZERS.items())[:4]:
            form.query_one("#optimizer", Select).value = name
            await wait_until(
                pilot, lambda name=name: form.fields_optimizer == name, what=f"{name} fields"
            )
            result = form.result()
            assert isinstance(result, AddRacer)
            assert result.optimizer == name and result.hparams == optimizer.defaults()


async def test_form_fields_are_reached_with_tab_and_race_keys_type_into_them() -> None:
    # Started paused: a race of a few hundred epochs can finish before a loaded machine
    # shows it running, and then there is nothing for the keys to leave untouched.
    app = make_app(epochs=400, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: bool(app.model.specs) and app.model.state == "paused",
            what="the race paused",
        )
        step = app.model.step
        form = await open_form(pilot, "a", AddRacerScreen)
        assert app.focused is form.query_one("#optimizer")
        await pilot.press("tab", "n", "d", "space", "q")
        assert form.query_one("#racer-name", Input).value == "nd q"
        await pilot.press("tab")
        assert app.focused is form.query_one("#hp-lr")
        await pilot.press("shift+tab")
        assert app.focused is form.query_one("#racer-name")
        assert app.screen is form and app.model.step == step  # no race key fired
        await pilot.press("escape")
        await pilot.press("q")


async def test_edit_form_changes_a_hyperparameter_and_rejects_bad_values() -> None:
    app = make_app(epochs=400, paused=True)  # a finished race refuses edits
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.selected_racer is not None, what="a racer")
        racer = app.selected_racer
        form = await open_form(pilot, "e", EditScreen)
        assert app.focused is form.query_one("#hp-lr")  # the first field, not Cancel
        form.query_one("#hp-lr", Input).value = "0"
        await click_button(pilot, "#submit")
        await pilot.pause()
        assert app.screen is form and "lr must be" in str(form.query_one("#form-error").render())
        form.query_one("#hp-lr", Input).value = "0.0123"
        await click_button(pilot, "#submit")
        await wait_until(
            pilot,
            lambda: app.model.specs[racer].hparams["lr"] == pytest.approx(0.0123),
            what="lr changed",
        )
        await pilot.press("q")


async def test_edit_form_keeps_a_wrappers_inner_optimizer() -> None:
    """A wrapper's form edits its own fields; its inner optimizer (no field) is kept."""
    app = make_app(epochs=400, paused=True)  # a finished race refuses edits
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.selected_racer is not None, what="a racer")
        hparams = OPTIMIZERS["lookahead"].validate({"inner": {"optimizer": "sgd", "lr": 0.1}})
        form = EditScreen(RacerSpec(99, "la", "la", "lookahead", hparams, "#4e79a7"))
        app.push_screen(form)
        await wait_until(pilot, lambda: form.fields_optimizer is not None, what="the fields")
        form.query_one("#hp-alpha", Input).value = "0.7"
        assert [(c.name, c.value) for c in form.result()] == [("alpha", 0.7)]
        await pilot.press("escape")
        await pilot.press("q")


async def test_fork_form_adds_a_child_racer() -> None:
    app = make_app(epochs=400, paused=True)  # a finished race refuses edits
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.selected_racer is not None, what="a racer")
        parent = app.selected_racer
        form = await open_form(pilot, "f", ForkScreen)
        await click_button(pilot, "#submit")  # unchanged: a fork needs a change
        await pilot.pause()
        assert app.screen is form and "at least one" in str(form.query_one("#form-error").render())
        form.query_one("#hp-lr", Input).value = "0.0321"
        await click_button(pilot, "#submit")
        await wait_until(
            pilot,
            lambda: any(s.parent == parent for s in app.model.specs.values()),
            what="forked racer",
        )
        child = next(s for s in app.model.specs.values() if s.parent == parent)
        assert child.hparams["lr"] == pytest.approx(0.0321)
        await pilot.press("q")


async def test_remove_key_removes_the_selected_racer() -> None:
    app = make_app(epochs=400, paused=True)  # a finished race refuses edits
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.selected_racer is not None, what="a racer")
        victim = app.selected_racer
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await pilot.press("y")
        await wait_until(pilot, lambda: victim not in app.model.specs, what="racer removed")
        await pilot.pause(0.2)
        assert app.screen.query_one(ParamTable).row_count == len(app.model.specs)
        await pilot.press("q")


async def test_export_writes_files_and_asks_before_overwriting(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for kind, suffix in (("json", ".json"), ("csv", ".csv"), ("weights", ".npz")):
            target = tmp_path / f"race{suffix}"
            await pilot.press("ctrl+e")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportScreen)
            assert not dialog.query("#kind-grid")  # not a grid race: no grid table to offer
            await pilot.click(f"#kind-{kind}")
            dialog.query_one("#path", Input).value = str(target)
            await click_button(pilot, "#submit")
            await wait_until(pilot, target.exists, what=f"{kind} export")
            assert target.stat().st_size > 0
        # Overwriting asks first; "no" keeps the old file untouched.
        before = (tmp_path / "race.json").read_bytes()
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(tmp_path / "race.json")
        await click_button(pilot, "#submit")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert (tmp_path / "race.json").read_bytes() == before
        await click_button(pilot, "#submit")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), what="closed")


async def test_export_to_a_missing_directory_is_rejected(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(tmp_path / "nope" / "race.json")
        await click_button(pilot, "#submit")
        await pilot.pause()
        assert app.screen is dialog
        assert "no such directory" in str(dialog.query_one("#form-error").render())


async def test_open_key_opens_another_builtin_scenario() -> None:
    from tui_optim.ui.screens.open_scenario import builtin_names

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.model.started
        await pilot.press("o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OpenScenarioScreen)
        dialog.query_one("#path", Input).value = str(tmp_missing := "/nonexistent/x.toml")
        await click_button(pilot, "#submit")
        await pilot.pause()
        assert app.screen is dialog and tmp_missing in str(dialog.query_one("#form-error").render())
        other = next(name for name in builtin_names() if name != app.scenario.name)  # type: ignore[union-attr]
        dialog.query_one("#path", Input).value = other
        await click_button(pilot, "#submit")
        await wait_until(pilot, lambda: app.model.started is not first, what="new scenario")
        assert app.scenario is not None and app.scenario.name == other
        await pilot.press("q")


# ---------------------------------------------------------------------- faults
async def test_invalid_scenario_shows_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "bad"\nepochz = 3\n')
    app = TuiOptimApp(bad, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        message = str(app.screen.query_one("#error-message", Static).render())
        assert "epochz" in message and "\n" not in message.strip()
        assert "Traceback" not in message
        assert app.process is None  # nothing was started
        await pilot.press("q")


async def test_data_that_does_not_fit_the_model_shows_the_error_screen(tmp_path: Path) -> None:
    """The file parses; the engine's deep check (its own process) finds the layers wrong."""
    bad = tmp_path / "wrong_layers.toml"
    bad.write_text(
        'title = "wrong layers"\nepochs = 3\n[data]\nsource = "iris"\n'
        '[model]\nlayers = [5, 8, 3]\n[[racer]]\noptimizer = "adam"\n'
    )
    app = TuiOptimApp(bad, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        # The screen is pushed before it has composed its widgets: wait for the message.
        def shown() -> bool:
            return isinstance(app.screen, ErrorScreen) and bool(app.screen.query("#error-message"))

        await wait_until(pilot, shown, what="error screen")
        message = str(app.screen.query_one("#error-message", Static).render())
        assert "model.layers: the input size is 5 but iris gives 4 features" in message
        assert "\n" not in message.strip() and "Traceback" not in message
        assert app.process is None  # the engine that found it is gone
        await pilot.press("q")


async def test_engine_killed_mid_race_is_reported_and_restartable() -> None:
    app = make_app(epochs=400, paused=True)  # paused: its engine cannot finish before the kill
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.state == "paused", what="the race paused")
        engine = [p for p in children() if p.is_running()]
        assert engine, "the engine runs in a child process"
        for process in engine:
            os.kill(process.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: app.model.engine_error is not None, 10, "engine stopped")
        await pilot.pause(0.2)
        assert "engine stopped" in header_text(app)
        await pilot.press("space")  # commands to a dead engine: a message, no hang
        await pilot.press("r")
        await wait_until(pilot, lambda: app.model.engine_error is None, what="restarted")
        await wait_until(
            pilot,
            lambda: app.model.state in ("running", "paused", "finished"),
            what="the new engine reporting",
        )
        await pilot.press("q")


async def test_quit_leaves_no_child_processes() -> None:
    before = {p.pid for p in children()}
    app = make_app(epochs=400, paused=True)  # paused: its engine is alive when counted
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.state == "paused", what="the race paused")
        assert {p.pid for p in children()} - before, "the engine runs in a child process"
        await pilot.press("q")
    leftover = [p for p in children() if p.pid not in before]
    _, alive = psutil.wait_procs(leftover, timeout=5)
    assert alive == []


async def test_resize_to_40x12_and_back_during_a_race() -> None:
    app = make_app(epochs=4000)  # long enough to still be running while it is resized
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 0, what="the race")
        chart = app.screen.query_one(LossChart)
        for size in ((80, 24), (40, 12), (200, 60), (160, 50)):
            await pilot.resize_terminal(*size)
            await wait_until(pilot, lambda s=size: app.screen.size == s, what=f"a {size} screen")
            await pilot.pause()  # a frame laid out at that size
            assert app.size == size
            assert isinstance(app.screen, RaceScreen)
        await wait_until(pilot, lambda: chart.size.width > 40, what="the layout to recover")
        await pilot.press("q")
