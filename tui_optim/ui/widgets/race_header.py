"""The race header: scenario title, progress, fingerprint, elapsed time, pace and state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from tui_optim.ui import format as fmt
from tui_optim.ui.host import Hosted

if TYPE_CHECKING:
    from tui_optim.results.record import RaceRecord

BAR_WIDTH = 16
#: Below this width the header shortens its bar and fingerprint.
NARROW_BELOW = 110


def progress_bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A text progress bar such as ``███████░░░░░░░░░``; empty when the race is unbounded."""
    if fraction is None:
        return ""
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


def pace_label(pace: float | None) -> str:
    """``"max"``, ``"20 st/s"``: the race's pace as the header shows it."""
    if pace is None:
        return "max"
    return f"{pace:g} st/s"


class RaceHeader(Hosted, Static):
    """One line: what is racing, how far it got, its pace and whether it is running.

    The line never wraps: on a narrow terminal the least needed parts go first (the
    fingerprint, the progress bar, the epoch, the clock), then the title is shortened.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario_label = ""
        #: Steps per second the race is held to (None: as fast as it goes).
        self.pace: float | None = None
        #: Replay: the step shown and the last step (None: live).
        self.replay: tuple[int, int] | None = None
        self._model: RaceRecord | None = None

    def on_resize(self) -> None:
        if self._model is not None:  # what fits changed; a finished race sends no update
            self.refresh_from(self._model)

    def refresh_from(self, model: RaceRecord) -> None:
        self._model = model
        started = model.started
        if model.engine_error is not None:
            state = "stopped"
        elif started is None or model.snapshot_count == 0:
            state = "starting"
        else:
            state = model.state
        title = started.title if started is not None else self.scenario_label
        narrow = narrow_header(self)
        # (markup, drop order: higher goes first when the line is too long)
        parts: list[tuple[str, int]] = []
        if started is not None:
            total_epochs = started.total_epochs
            epochs = f"epoch {model.epoch:.2f}" + (f"/{total_epochs}" if total_epochs else "")
            total_steps = model.total_steps
            steps = f"step {model.step}" + (f"/{total_steps}" if total_steps else "")
            if not model.is_surface:  # a surface race has steps only: an epoch is a step
                parts.append((epochs, 3))
            parts.append((steps, 0))
            bar = progress_bar(model.progress, BAR_WIDTH // 2 if narrow else BAR_WIDTH)
            if bar:
                parts.append((f"[$accent]{bar}[/]", 4))
            fingerprint = started.fingerprint[: 6 if narrow else 12]
            parts.append((f"[$foreground-muted]fp {escape(fingerprint)}[/]", 5))
            elapsed = fmt.DASH if self.host.test_mode else _clock(model.seconds)
            parts.append((f"⏱ {elapsed}", 2))
            if self.replay is None:
                parts.append((f"[$foreground-muted]pace[/] {pace_label(self.pace)}", 1))
        if self.replay is not None:
            shown, last = self.replay
            parts.append((f"[bold $warning]⏪ replay {shown}/{last}[/] ←→", 0))
        else:
            parts.append((fmt.race_state_badge(state), 0))
        if model.engine_error is not None:
            parts.append((f"[$error]{escape(model.engine_error)} — press r to restart[/]", 0))
        # One line always (see the stylesheet): no layout pass for ten updates a second.
        self.update(fit_line(title, parts, self.content_region.width, narrow), layout=False)


def fit_line(title: str, parts: list[tuple[str, int]], width: int, narrow: bool) -> Content:
    """``title`` and ``parts`` on one line of ``width`` cells: parts with the highest drop
    order go first, then the title is cut with an ellipsis."""
    separator = " " if narrow else "  "
    kept = list(parts)

    def line(head: str) -> Content:
        return Content.from_markup(separator.join([head, *(markup for markup, _ in kept)]))

    head = f"[b]{escape(title)}[/]"
    if width <= 0:
        return line(head)
    while line(head).cell_length > width and any(order > 0 for _, order in kept):
        drop = max(range(len(kept)), key=lambda index: kept[index][1])
        del kept[drop]
    rest = line("").cell_length
    room = width - rest
    if len(title) > room:
        cut = title[: max(0, room - 1)] + "…" if room > 1 else ""
        head = f"[b]{escape(cut)}[/]"
    return line(head)


def narrow_header(header: RaceHeader) -> bool:
    return 0 < header.size.width < NARROW_BELOW


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
