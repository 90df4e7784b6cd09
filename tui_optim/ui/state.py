"""RaceModel: everything the app knows about the race, built from engine messages.

Plain Python (no Textual), owned and mutated by the app on the main thread only:
the engine worker thread posts :class:`tui_optim.ui.messages.EngineMessagesWaiting`, the app calls
:meth:`RaceModel.apply` for each engine message and then tells the screen.

How views learn about changes (the one rule every screen follows):
    After applying a batch of engine messages the app posts
    :class:`tui_optim.ui.messages.ModelUpdated` (``can_replace``, so bursts collapse) to the
    *active* screen. A screen redraws in ``on_model_updated`` and also in
    ``on_screen_resume`` (it missed updates while another screen was on top). Expensive views
    (charts, surfaces) throttle themselves: redraw at most every 0.25 s, comparing
    ``model.version`` with the version they last drew.

Screens reach the model as ``self.app.model`` (``TuiOptimApp.model``).

Screens of UI-views (pushed by the app's g/v/enter/b keys, imported lazily):
    tui_optim.ui.screens.detail.DetailScreen, surface.SurfaceScreen, grid.GridScreen,
    leaderboard.LeaderboardScreen. The app constructs them with no arguments. The racer a
    screen is about is ``self.app.selected_racer`` (a racer id, or None). To send a command
    to the engine call ``self.app.send_command(command)`` (e.g. SetHparam, ForkRacer); it
    returns False (and tells the user) when the engine is not running. The app-level keys
    (space, n, r, l, x, s, q, ...) keep working on those screens; escape pops them.
    The app's test mode is ``self.app.test_mode``: show "—" instead of clocks and speeds.
"""

from __future__ import annotations

from tui_optim.results.record import (
    EVENT_LIMIT,
    HISTORY_CAPACITY,
    NOTICE_LIMIT,
    Notice,
    feed_history,
    finite_or_none,
    new_history,
)
from tui_optim.results.record import RaceRecord as RaceModel

__all__ = [
    "EVENT_LIMIT",
    "HISTORY_CAPACITY",
    "NOTICE_LIMIT",
    "Notice",
    "RaceModel",
    "feed_history",
    "finite_or_none",
    "new_history",
]
