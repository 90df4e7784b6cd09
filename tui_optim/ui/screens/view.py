"""The base of the view screens (detail, surface, grid, leaderboard): they render the model.

A view redraws when the model changed (throttled to VIEW_HZ) and when it comes back on top;
escape closes it; the app's keys keep working.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui_optim.ui.messages import ModelUpdated

if TYPE_CHECKING:
    from tui_optim.ui.app import TuiOptimApp
    from tui_optim.ui.state import RaceModel

#: Redraws per second at most.
VIEW_HZ = 4.0


class ViewScreen(Screen[None]):
    """A screen that draws ``self.app.model`` in :meth:`draw`."""

    app: TuiOptimApp
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self._drawn_version = -1
        self._drawn_at = 0.0
        self._pending = False

    def on_mount(self) -> None:
        self.redraw(force=True)

    def on_screen_resume(self) -> None:
        self.redraw(force=True)

    def on_model_updated(self, message: ModelUpdated) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw(force=True)

    def redraw(self, force: bool = False) -> None:
        model = self.app.model
        if not force and model.version == self._drawn_version:
            return
        wait = 1.0 / VIEW_HZ - (time.monotonic() - self._drawn_at)
        if not force and wait > 0:
            if not self._pending:
                self._pending = True
                self.set_timer(wait, self._timer_redraw)
            return
        self._drawn_version = model.version
        self._drawn_at = time.monotonic()
        self.draw(model)

    def _timer_redraw(self) -> None:
        self._pending = False
        self.redraw()

    def draw(self, model: RaceModel) -> None:
        """Bring the screen up to date with ``model``. Override."""

    def action_close(self) -> None:
        self.app.pop_screen()
