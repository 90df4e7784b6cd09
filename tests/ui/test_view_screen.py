"""ViewScreen and the app's messages, on a bare Textual app (no engine, no race screen).

A view draws the model on mount, after a ModelUpdated (bursts collapse and redraws are
throttled), when a SizedStatic resizes, and closes on escape.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui_optim.results.record import RaceRecord
from tui_optim.scenario import Scenario
from tui_optim.ui.host import AppHost
from tui_optim.ui.messages import ContentResized, ModelUpdated, RacerSelected
from tui_optim.ui.screens.view import SizedStatic, ViewScreen
from tui_optim.ui.testing import wait_until


class CountingView(ViewScreen):
    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[int] = []
        self.updates: list[int] = []

    def compose(self) -> ComposeResult:
        yield SizedStatic("cell", id="cell")

    def on_model_updated(self, message: ModelUpdated) -> None:
        self.updates.append(message.version)
        super().on_model_updated(message)

    def draw(self, model: RaceRecord) -> None:
        self.drawn.append(model.version)


async def mounted_view(pilot: Pilot[None]) -> CountingView:
    """The view once it is on screen and its mount and layout draws are done."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CountingView), 10, "the view")
    view = pilot.app.screen
    assert isinstance(view, CountingView)
    await wait_until(pilot, lambda: bool(view.drawn) and view.shows_latest(), 10, "the draws")
    return view


class ViewHost(App[None]):
    """A bare app that implements AppHost (what a view may read) and nothing of the race."""

    def __init__(self) -> None:
        super().__init__()
        self.model = RaceRecord()
        self.selected_racer: int | None = None
        self.test_mode = True
        self.pace: float | None = None
        self.scrub_position: tuple[int, int] | None = None
        self.scenario: Scenario | None = None
        self.scenario_label = "bare"
        self.content_resized = 0

    def show_view(self, screen_class: type[ViewScreen]) -> None:
        self.push_screen(screen_class())

    def open_scenario(self, request: str | Path | Scenario | None) -> bool:
        return False

    def on_content_resized(self, message: ContentResized) -> None:
        self.content_resized += 1

    def on_mount(self) -> None:
        self.push_screen(CountingView())


async def test_a_view_draws_on_mount_and_after_the_model_changed() -> None:
    app = ViewHost()
    assert isinstance(app, AppHost)
    async with app.run_test() as pilot:
        view = await mounted_view(pilot)
        assert view.drawn and view.drawn[-1] == app.model.version
        app.model.version += 1
        assert not view.shows_latest()
        view.post_message(ModelUpdated(app.model.version))
        await wait_until(pilot, view.shows_latest, 10, "the redraw")
        assert view.drawn[-1] == app.model.version


async def test_a_burst_of_updates_is_handled_once_and_drawn_once() -> None:
    app = ViewHost()
    async with app.run_test() as pilot:
        view = await mounted_view(pilot)
        drawn = len(view.drawn)
        for _ in range(10):
            app.model.version += 1
            view.post_message(ModelUpdated(app.model.version))
        await wait_until(pilot, view.shows_latest, 10, "the redraw")
        assert view.updates == [app.model.version]  # the queued nine were replaced
        assert view.drawn[drawn:] == [app.model.version]


async def test_a_resized_sized_static_redraws_its_screen_and_stops_there() -> None:
    app = ViewHost()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await mounted_view(pilot)
        drawn = len(view.drawn)
        view.query_one("#cell", SizedStatic).styles.width = 30  # the widget alone resizes
        await wait_until(pilot, lambda: len(view.drawn) > drawn, 10, "the redraw")
        await pilot.pause()
        assert app.content_resized == 0  # the screen handled it: it goes no further


async def test_escape_closes_the_view() -> None:
    app = ViewHost()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CountingView)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CountingView)


def test_message_fields_and_replacement() -> None:
    assert ModelUpdated(3).can_replace(ModelUpdated(2))
    assert not ModelUpdated(3).can_replace(ContentResized())
    assert RacerSelected(4) == RacerSelected(4, from_table=False)
    assert RacerSelected(4, from_table=True).from_table
