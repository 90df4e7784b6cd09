"""The race header: scenario title, progress, fingerprint, elapsed time and race state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from tui_optim.ui import format as fmt

if TYPE_CHECKING:
    from tui_optim.ui.state import RaceModel

BAR_WIDTH = 16
#: Below this width the header shortens its bar and fingerprint.
NARROW_BELOW = 110


def progress_bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A text progress bar such as ``███████░░░░░░░░░``; empty when the race is unbounded."""
    if fraction is None:
        return ""
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


class RaceHeader(Static):
    """One or two lines: what is racing, how far it got, and whether it is running."""

    def __init__(self, *, test_mode: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.test_mode = test_mode
        self.scenario_label = ""
        self._lines = 0

    def refresh_from(self, model: RaceModel) -> None:
        started = model.started
        if model.engine_error is not None:
            state = "stopped"
        elif started is None or model.snapshot_count == 0:
            state = "starting"
        else:
            state = model.state
        title = escape(started.title) if started is not None else escape(self.scenario_label)
        parts = [f"[b]{title}[/]"]
        if started is not None:
            total_epochs = started.total_epochs
            epochs = f"epoch {model.epoch:.2f}" + (f"/{total_epochs}" if total_epochs else "")
            total_steps = model.total_steps
            steps = f"step {model.step}" + (f"/{total_steps}" if total_steps else "")
            narrow = narrow_header(self)
            bar = progress_bar(model.progress, BAR_WIDTH // 2 if narrow else BAR_WIDTH)
            parts.append(f"{epochs} · {steps}")
            if bar:
                parts.append(f"[$accent]{bar}[/]")
            fingerprint = started.fingerprint[: 6 if narrow else 12]
            parts.append(f"[$foreground-muted]fp {escape(fingerprint)}[/]")
            elapsed = fmt.DASH if self.test_mode else _clock(model.seconds)
            parts.append(f"⏱ {elapsed}")
        parts.append(fmt.race_state_badge(state))
        if model.engine_error is not None:
            parts.append(f"[$error]{escape(model.engine_error)} — press r to restart[/]")
        content = Content.from_markup((" " if narrow_header(self) else "  ").join(parts))
        # A layout pass costs the whole screen; the header needs one only when its text
        # wraps onto a different number of lines (it updates ten times a second).
        lines = -(-content.cell_length // max(1, self.content_region.width))
        self.update(content, layout=lines != self._lines)
        self._lines = lines


def narrow_header(header: RaceHeader) -> bool:
    return 0 < header.size.width < NARROW_BELOW


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
