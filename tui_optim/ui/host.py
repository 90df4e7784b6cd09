"""AppHost: what the screens and widgets need from the app, and nothing else.

Screens and widgets are typed against this protocol, not against the app class: a screen
reads the model and the selection, and asks the app to show a view or open a scenario.
Everything a screen *changes* in the race it returns from ``dismiss`` (a command, an export
request) for the app to carry out. :class:`tui_optim.ui.app.TuiOptimApp` implements it.

Textual's own app methods (``push_screen``, ``notify``, ``theme_variables``) stay on
``self.app``; ours are on ``self.host`` (the :class:`Hosted` mixin).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from textual.dom import DOMNode
from textual.screen import Screen

if TYPE_CHECKING:
    from tui_optim.results.record import RaceRecord
    from tui_optim.scenario import Scenario
    from tui_optim.ui.screens.view import ViewScreen

ResultType = TypeVar("ResultType")


@runtime_checkable
class AppHost(Protocol):
    """The app as the screens and widgets see it."""

    @property
    def model(self) -> RaceRecord:
        """What to draw: the race, or the race as it was at the scrubbed step."""

    #: The racer the detail and surface views are about (a racer id), or None.
    selected_racer: int | None

    @property
    def test_mode(self) -> bool:
        """True for deterministic screens (snapshots): no clocks or speeds, no cursor blink,
        every redraw at once and the chart drawn in-process."""

    @property
    def pace(self) -> float | None:
        """The engine's pace in steps per second (None: no limit)."""

    @property
    def scrub_position(self) -> tuple[int, int] | None:
        """(step shown, last step) while scrubbing or replaying, else None."""

    @property
    def scenario(self) -> Scenario | None:
        """The scenario being raced (None before one loaded)."""

    @property
    def scenario_label(self) -> str:
        """The scenario's title, printable."""

    def show_view(self, screen_class: type[ViewScreen]) -> None:
        """Push a view of the race (or tell the user why this race has none)."""

    def open_scenario(self, request: str | Path | Scenario | None) -> bool:
        """Race ``request`` instead (a built-in name, a path or a Scenario)."""


def host_of(node: DOMNode) -> AppHost:
    """The app ``node`` runs in, as an :class:`AppHost`."""
    app = node.app
    if not isinstance(app, AppHost):
        raise TypeError(f"{type(node).__name__} needs an app that implements AppHost")
    return app


class Hosted:
    """Mixin for a screen or widget of this app: ``self.host`` is the app as an
    :class:`AppHost` (looked up once)."""

    @cached_property
    def host(self) -> AppHost:
        assert isinstance(self, DOMNode), "Hosted is mixed into screens and widgets"
        return host_of(self)


class HostedScreen(Hosted, Screen[ResultType]):
    """A full screen of this app."""
