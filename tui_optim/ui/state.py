"""RaceModel: everything the app knows about the race, built from engine messages.

Plain Python (no Textual), owned and mutated by the app on the main thread only:
the engine worker thread posts :class:`tui_optim.ui.messages.EngineMessagesWaiting`, the app calls
:meth:`RaceModel.apply` for each engine message and then tells the screen.

How views learn about changes (the one rule every screen follows):
    After applying a batch of engine messages the app posts
    :class:`tui_optim.ui.messages.ModelUpdated` (``can_replace``, so bursts collapse) to the
    *active* screen. A screen redraws in ``on_model_updated`` and also in
    ``on_screen_resume`` (it missed updates while another screen was on top). Expensive views
    (charts, surfaces) throttle themselves: redraw at most every 0.25 s, comparing
    ``model.version`` with the version they last drew.

Screens reach the model as ``self.host.model`` (:class:`tui_optim.ui.host.AppHost`): the
live RaceModel, or a RaceRecord (a replay, or the race as it was at a scrubbed step).

The view screens (pushed by the app's g/v/enter/b keys, imported lazily):
    tui_optim.ui.screens.detail.DetailScreen, surface.SurfaceScreen, grid.GridScreen,
    leaderboard.LeaderboardScreen. The app constructs them with no arguments
    (``host.show_view``). The racer a screen is about is ``self.host.selected_racer`` (a
    racer id, or None). A dialog that changes the race returns its command(s) from
    ``dismiss``; the app sends them. The app-level keys (space, n, r, q, ...) keep working
    on those screens; escape pops them. The app's test mode is ``self.host.test_mode``:
    show "—" instead of clocks and speeds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui_optim.engine.errors import printable
from tui_optim.race.messages import (
    CommandRejected,
    EngineFailed,
    RacersChanged,
    RacerSpec,
    RaceStarted,
    Snapshot,
)
from tui_optim.results.record import (
    EVENT_LIMIT,
    HISTORY_CAPACITY,
    NOTICE_LIMIT,
    Notice,
    RaceRecord,
    feed_history,
    finite_or_none,
    new_history,
)


class RaceModel(RaceRecord):
    """The app's RaceRecord, with every text from the scenario or the engine (title, racer
    names, reasons) made printable: a racer named ``"\x1b]0;TITLE\x07"`` is shown as
    those characters, not obeyed by the terminal (the app's exports carry it so too)."""

    def apply(self, message: Any) -> None:
        super().apply(displayable(message))


def displayable(message: Any) -> Any:
    """``message`` with its user-visible texts passed through :func:`printable` (the same
    object when they already were)."""
    if isinstance(message, RaceStarted):
        racers = _printable_specs(message.racers)
        title = printable(message.title)
        if racers is not message.racers or title is not message.title:
            return replace(message, racers=racers, title=title)
    elif isinstance(message, RacersChanged):
        racers = _printable_specs(message.racers)
        if racers is not message.racers:
            return replace(message, racers=racers)
    elif isinstance(message, EngineFailed | CommandRejected):
        text = printable(message.message)
        if text is not message.message:
            return replace(message, message=text)
    elif isinstance(message, Snapshot):
        events = tuple(
            replace(e, reason=printable(e.reason)) if printable(e.reason) is not e.reason else e
            for e in message.events
        )
        stats = tuple(
            replace(s, reason=printable(s.reason)) if printable(s.reason) is not s.reason else s
            for s in message.racers
        )
        if any(a is not b for a, b in zip(events, message.events, strict=True)) or any(
            a is not b for a, b in zip(stats, message.racers, strict=True)
        ):
            return replace(message, events=events, racers=stats)
    return message


def _printable_specs(specs: tuple[RacerSpec, ...]) -> tuple[RacerSpec, ...]:
    changed = [replace(spec, name=printable(spec.name)) for spec in specs]
    if all(a.name is b.name for a, b in zip(changed, specs, strict=True)):
        return specs
    return tuple(changed)

__all__ = [
    "EVENT_LIMIT",
    "HISTORY_CAPACITY",
    "NOTICE_LIMIT",
    "Notice",
    "RaceModel",
    "feed_history",
    "finite_or_none",
    "new_history",
]
