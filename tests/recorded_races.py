"""Races run headless to their end in the test process, recorded as the app records them."""

from __future__ import annotations

import numpy as np

from tui_optim.race.race import Race
from tui_optim.results.record import RaceRecord


def run_to_end(race: Race, seconds: float = 1.0) -> None:
    """Advance ``race`` in slices of ``seconds`` until it is no longer running."""
    while race.state == "running":
        race.advance(seconds)


def recorded(race: Race, seconds: float = 1.0) -> RaceRecord:
    """``race`` run to its end, its start and every snapshot applied to a
    :class:`RaceRecord` (one snapshot per slice of ``seconds``, as a live view gets them)."""
    record = RaceRecord()
    record.apply(race.started())
    while race.state == "running":
        race.advance(seconds)
        record.apply(race.snapshot())
    return record


def params_of(race: Race) -> dict[str, np.ndarray]:
    """Each racer's current weights by name, copied."""
    return {r.spec.name: race.current_params(r).copy() for r in race.racers.values()}
