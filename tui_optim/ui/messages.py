"""Textual messages of the app: small, documented dataclasses.

The engine's own dataclasses (tui_optim.engine.messages) travel inside :class:`EngineMessages`;
everything else here is UI plumbing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class EngineMessages(Message):
    """A batch of engine messages moved from the pipe by the engine worker (app-bound)."""

    messages: list[Any]


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
class RacerSelected(Message):
    """The user highlighted a racer (card or table row); ``racer`` is its id."""

    racer: int
