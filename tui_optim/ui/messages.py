"""Textual messages of the app: small, documented dataclasses.

The engine's own dataclasses (tui_optim.race.messages) wait in the app's inbox until
:class:`EngineMessagesWaiting` tells the app; everything else here is UI plumbing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class EngineMessagesWaiting(Message):
    """Engine messages wait in the app's inbox (posted by the engine worker, app-bound).

    The messages themselves stay in the inbox, so however many arrive before the app gets
    to this one, they are applied together with one redraw.
    """


@dataclass
class EngineGone(Message):
    """The engine process exited or was killed; ``reason`` is one line for the user."""

    reason: str


@dataclass
class ModelUpdated(Message):
    """The race model changed; sent to the active screen. Bursts collapse into one."""

    version: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelUpdated)


@dataclass
class RaceStatusChanged(Message):
    """The race's state (running, paused, ...) or the app's pace changed; sent to the active
    screen, which shows it at once (the answer to a key), ahead of its throttled redraws."""


@dataclass
class ContentResized(Message):
    """A widget whose drawing depends on its size got a new size (bubbles to its screen)."""


@dataclass
class RacerSelected(Message):
    """The user highlighted a racer (card or table row); ``racer`` is its id.

    ``from_table``: the parameter table's cursor is already on it. Moving the cursor answers
    with another RacerSelected, so only a selection made elsewhere may move it: two
    selections in flight would otherwise bounce the cursor between them forever.
    """

    racer: int
    from_table: bool = False
