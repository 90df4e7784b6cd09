"""Rate limiting for redraws: at most one run per period, and never a lost last update.

Numbers that change ten times a second cannot be read, and every redraw of a widget with
two dozen rows costs the event loop milliseconds that a key press then waits for. A
:class:`Throttle` runs its callback at once when the period has passed since the last run;
otherwise it schedules one run for when it has (the trailing edge), so the screen always
ends up showing the latest model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump


class Throttle:
    """Call ``callback`` at most once per ``period()`` seconds, timers set on ``owner``."""

    def __init__(
        self, owner: MessagePump, callback: Callable[[], None], period: Callable[[], float]
    ) -> None:
        self.owner = owner
        self.callback = callback
        self.period = period
        self.ran_at = -float("inf")
        self.pending = False

    def request(self, *, now: bool = False) -> None:
        """Run now if allowed (or if ``now``), else once when the period is over."""
        wait = self.period() - (time.monotonic() - self.ran_at)
        if now or wait <= 0:
            self._run()
        elif not self.pending:
            self.pending = True
            self.owner.set_timer(wait, self._on_timer)

    def _on_timer(self) -> None:
        self.pending = False
        self._run()

    def _run(self) -> None:
        self.ran_at = time.monotonic()
        self.callback()
