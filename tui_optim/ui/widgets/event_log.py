"""The event log: every status change of every racer, with its reason, newest at the bottom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from tui_optim.ui import format as fmt
from tui_optim.ui.host import Hosted

if TYPE_CHECKING:
    from tui_optim.race.messages import Event
    from tui_optim.results.record import RaceRecord


class EventLog(Hosted, RichLog):
    """Appends the model's new events; starts over when a new race starts."""

    # Widget.virtual_size lays the whole screen out again when it changes, and a log that
    # grows twice a second made that a fifth of the event loop's work with two dozen
    # racers. Only this widget's scrollbar depends on it: that is updated here instead
    # (a scrollbar that appears or goes still lays the screen out, through
    # _refresh_scrollbars).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)

    def __init__(self, *, id: str | None = None) -> None:
        # Wrapped: a narrow log shows the whole reason on more lines rather than cut names.
        super().__init__(
            id=id, wrap=True, markup=False, max_lines=1000, auto_scroll=True, min_width=20
        )
        self._race: object | None = None
        self._written = 0

    def refresh_from(self, model: RaceRecord) -> None:
        # A new race, or the same one scrubbed back to before some of the events shown.
        if model.started is not self._race or model.event_count < self._written:
            self.clear()
            self._race = model.started
            self._written = 0
            if model.started is not None:
                self.write(Text(f"race started: {model.started.title}", style="dim"))
        new = model.event_count - self._written
        if new <= 0:
            return
        # One write for the lot: each RichLog.write re-measures and refreshes the log.
        lines = [self._line(model, event) for event in model.events[-min(new, len(model.events)) :]]
        self.write(Text("\n").join(lines[-self.max_lines :] if self.max_lines else lines))
        self._written = model.event_count

    def _line(self, model: RaceRecord, event: Event) -> Text:
        spec = model.specs.get(event.racer)
        name = spec.name if spec is not None else f"racer {event.racer}"
        colour = spec.colour if spec is not None else ""
        when = f"step {event.step}"
        if not self.host.test_mode:
            when += f" {event.seconds:.1f}s"
        badge = fmt.badge_text(event.status, self.app.theme_variables)
        # Status first: what happened reads before whom it happened to, at any width.
        return Text.assemble(
            badge, " ", ("█ ", colour), (name, "bold"), (f" {when}", "dim"), ": ", event.reason
        )
