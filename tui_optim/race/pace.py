"""The pace at which a race lasts a given time, computed the same way by the engine (which
holds the race to it) and the app (which shows it in the header)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_optim.race.messages import RaceStarted

#: The mantissas of round paces: 1, 2, 5, 10, 20, 50, ... steps per second.
ROUND_MANTISSAS = (1.0, 2.0, 5.0)


def planned_steps(started: RaceStarted) -> int | None:
    """The steps the race plans to take (its primary group's), None when unbounded."""
    if started.total_steps is not None:
        return started.total_steps
    if started.total_epochs is not None:
        return started.total_epochs * max(1, started.problem.steps_per_epoch)
    return None


def round_pace(steps_per_second: float) -> float:
    """The 1-2-5 number (1, 2, 5, 10, 20, 50, ...) nearest ``steps_per_second`` on a log
    scale, at least 1."""
    if not steps_per_second > 1.0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(steps_per_second))
    candidates = [m * decade for m in ROUND_MANTISSAS] + [10.0 * decade]
    return min(candidates, key=lambda pace: abs(math.log(pace / steps_per_second)))


def pace_lasting(started: RaceStarted, seconds: float) -> float | None:
    """The round pace (:func:`round_pace`) at which the race's planned steps take about
    ``seconds`` (between ``seconds`` / 1.6 and ``seconds`` x 1.6); None (no limit) for an
    unbounded race."""
    steps = planned_steps(started)
    if not steps:
        return None
    return round_pace(steps / seconds)
