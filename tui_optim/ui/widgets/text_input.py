"""TextInput: the dialogs' text field."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from tui_optim.ui.host import Hosted


class TextInput(Hosted, Input):
    """An :class:`Input` whose cursor stays still in test mode (a snapshot must not catch
    it half-way through a blink). Takes Input's arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.host.test_mode:
            self.cursor_blink = False
