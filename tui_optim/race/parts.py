"""A headless race cut into parts that each run to completion on their own (a Dask task).

Part ``k`` of ``n`` holds the racers whose index over racers x repeats is ``k`` modulo
``n``, as the engine processes of :class:`~tui_optim.race.process.RaceProcess` split a race;
each part steps its racers in lockstep on the batches every part sees, so the figures do
not depend on the number of parts. :func:`run_race_part` races one part and returns the
messages a watcher would have received from it (its :class:`RaceStarted` and snapshots);
:func:`merged_messages` folds the parts finished so far into the messages of one race, so
a :class:`~tui_optim.results.record.RaceRecord` fed them holds what the engine processes
would have produced: the same racers, histories, statuses and events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tui_optim.race.messages import Event, RaceStarted, RaceState, Snapshot
from tui_optim.scenario import Scenario

#: Seconds of training between two snapshots of a part (each carries the history points
#: since the one before, so fewer snapshots cost nothing in what is recorded).
PART_SNAPSHOT_SECONDS = 1.0


@dataclass(frozen=True)
class RacePart:
    """What part ``index`` of a race sent: its start and its snapshots, the last one final."""

    index: int
    started: RaceStarted
    snapshots: tuple[Snapshot, ...]


def run_race_part(scenario: Scenario, count: int, index: int) -> RacePart:
    """Race part ``index`` of ``count`` to the end; raises ScenarioError when the data or
    the model cannot be loaded (the check the engine process makes before it races)."""
    from tui_optim.race.race import Race
    from tui_optim.scenario import check_scenario

    check_scenario(scenario)
    race = Race(scenario, (index, count))
    started = race.started()
    snapshots = []
    while race.state == "running":
        race.advance(PART_SNAPSHOT_SECONDS)
        snapshots.append(race.snapshot())
    return RacePart(index, started, tuple(snapshots))


def merged_messages(parts: Mapping[int, RacePart], count: int) -> list[Any]:
    """One race's messages from the parts of ``count`` finished so far (none: no messages).

    The RaceStarted lists every finished part's racers in id order; each part's snapshots
    follow without their events, then one last snapshot gives the race's state (finished
    when all ``count`` parts are, else stopped; the least advanced part's step and epoch)
    and all the events in the order the race met them (by epoch, then racer), as one
    engine would have sent them."""
    if not parts:
        return []
    ordered = [parts[index] for index in sorted(parts)]
    specs = sorted((spec for part in ordered for spec in part.started.racers), key=_id)
    messages: list[Any] = [replace(ordered[0].started, racers=tuple(specs))]
    finals: list[Snapshot] = []
    events: list[Event] = []
    for part in ordered:
        for snapshot in part.snapshots:
            events.extend(snapshot.events)
            messages.append(replace(snapshot, events=()))
        if part.snapshots:
            finals.append(part.snapshots[-1])
    if not finals:
        return messages
    states = {snapshot.state for snapshot in finals}
    whole = len(parts) == count and states == {"finished"}
    state: RaceState = "finished" if whole else "stopped"
    events.sort(key=lambda event: (event.epoch, event.step, event.racer))
    messages.append(
        Snapshot(
            step=min(snapshot.step for snapshot in finals),
            epoch=min(snapshot.epoch for snapshot in finals),
            seconds=max(snapshot.seconds for snapshot in finals),
            state=state,
            racers=(),
            events=tuple(events),
        )
    )
    return messages


def _id(spec: Any) -> int:
    return int(spec.id)
