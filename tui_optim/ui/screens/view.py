"""The base of the view screens (detail, surface, grid, leaderboard): they render the model.

A view redraws when the model changed (throttled to VIEW_HZ), when it comes back on top and
when one of its :class:`SizedStatic` widgets changed size; escape closes it; the app's keys
keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui_optim.ui.host import AppHost, HostedScreen
from tui_optim.ui.messages import ContentResized, ModelUpdated
from tui_optim.ui.throttle import Throttle

if TYPE_CHECKING:
    from tui_optim.results.record import RaceRecord

#: Redraws per second at most.
VIEW_HZ = 4.0


class SizedStatic(Static):
    """A Static whose content is drawn to its size: it tells its screen when that changes.

    The final size is known only after layout (breakpoint classes, say, apply after the
    first one), and a finished race sends no more updates to redraw with.
    """

    def on_resize(self) -> None:
        self.post_message(ContentResized())


class ViewScreen(HostedScreen[None]):
    """A screen that draws ``self.host.model`` in :meth:`draw`; the app constructs it with
    no arguments (:meth:`AppHost.show_view`)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back")]

    @classmethod
    def unavailable(cls, host: AppHost) -> str | None:
        """Why the race ``host`` shows has no such view (told to the user), else None."""
        return None

    def __init__(self) -> None:
        super().__init__()
        self._drawn_version = -1
        self._throttle = Throttle(self, self._draw_model, lambda: 1.0 / VIEW_HZ)

    def on_mount(self) -> None:
        self.redraw(force=True)

    def on_screen_resume(self) -> None:
        self.redraw(force=True)

    def on_model_updated(self, message: ModelUpdated) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw(force=True)

    def on_content_resized(self, message: ContentResized) -> None:
        message.stop()
        # Throttled, not forced: two dozen grid cells resize together and one draw is enough.
        self._throttle.request()

    def redraw(self, force: bool = False) -> None:
        if force or self.host.model.version != self._drawn_version:
            self._throttle.request(now=force)

    def _draw_model(self) -> None:
        model = self.host.model
        self._drawn_version = model.version
        self.draw(model)

    def shows_latest(self) -> bool:
        """True when the screen shows the model's current version and no redraw is due."""
        return self._drawn_version == self.host.model.version and not self._throttle.pending

    def draw(self, model: RaceRecord) -> None:
        """Bring the screen up to date with ``model``. Override."""

    def action_close(self) -> None:
        self.app.pop_screen()
