"""The error screen: a scenario that cannot be used, as one line (never a traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui_optim.engine.errors import printable


class ErrorScreen(Screen[None]):
    """Shows ``message`` for ``request``; o opens another scenario, q quits."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "app.open_scenario", "Open another")]

    def __init__(self, message: str, request: object = None) -> None:
        super().__init__()
        self.message = message
        self.request = request

    def compose(self) -> ComposeResult:
        what = self.request if self.request is not None else "the default scenario"
        if isinstance(what, Path):
            what = str(what)
        with Vertical(id="error-box"):
            yield Static(
                f"[b $error]✖ Cannot open {escape(printable(str(what)))}[/]", id="error-title"
            )
            yield Static(printable(self.message), markup=False, id="error-message")
            yield Static(
                "\n[$foreground-muted]o: open another scenario   q: quit[/]", id="error-hint"
            )
        yield Footer()
