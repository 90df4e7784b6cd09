"""RaceRecord: what a watcher knows about a race, folded from the engine's messages.

Plain Python and NumPy. The app keeps one (as its model, on the main thread) and so does
the headless command line; exports and the leaderboard are computed from it, so the app's
ctrl+e and `tui-optim run --json` write the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tui_optim.race.messages import (
    CommandRejected,
    EngineFailed,
    Event,
    HistoryChunk,
    RacersChanged,
    RacerSpec,
    RacerStats,
    RaceStarted,
    RaceState,
    Snapshot,
    Status,
    WeightsSaved,
)
from tui_optim.race.pace import planned_steps
from tui_optim.results.history import History

#: Points each racer's history keeps (older points are decimated by History, keeping extremes).
HISTORY_CAPACITY = 4000
#: Events kept for the log; older ones are dropped.
EVENT_LIMIT = 1000
#: Rejected-command notices kept.
NOTICE_LIMIT = 50


def new_history(with_position: bool) -> History:
    """A bounded history for one racer."""
    return History(HISTORY_CAPACITY, with_position=with_position)


def feed_history(history: History, chunk: HistoryChunk) -> None:
    """Append the points of one snapshot chunk to ``history``."""
    if len(chunk.step) == 0:
        return
    history.extend(chunk)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for the user that is not a racer event (e.g. a rejected command)."""

    title: str
    message: str


class RaceRecord:
    """Everything known about a race, folded from engine messages; mutate only via :meth:`apply`.

    Attributes:
        started: the last RaceStarted (None until the engine reports in).
        specs: racer id -> RacerSpec; insertion order is the display order.
        stats: racer id -> latest RacerStats (absent until the first snapshot with it).
        histories: racer id -> History fed from RacerStats.new_points.
        events: status changes with reasons, oldest first, at most EVENT_LIMIT.
        event_count: events received since the race started (for "what is new" checks).
        notices: rejected commands and other non-racer messages, oldest first.
        state: the race state ("running", "paused", "finished", "stopped").
        snapshot_count: snapshots applied since the race started (0: state not known yet).
        step, epoch, seconds: race progress at the last snapshot.
        engine_error: set when the engine failed or died; None while it is healthy.
        version: bumps on every apply(); views redraw when it changed.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (used when a new race or scenario starts)."""
        self.started: RaceStarted | None = None
        self.specs: dict[int, RacerSpec] = {}
        self.stats: dict[int, RacerStats] = {}
        self.histories: dict[int, History] = {}
        #: Racers taken out of the race, last removed last: id -> (spec, history, last
        #: stats), for when the engine brings one back (RestoreRacer) with its past.
        self.departed: dict[int, tuple[RacerSpec, History, RacerStats | None]] = {}
        self.events: list[Event] = []
        self.event_count = 0  # events ever received in this race (events keeps the last ones)
        self.notices: list[Notice] = []
        self.state: RaceState = "paused"
        self.snapshot_count = 0  # until the first snapshot, state says nothing about the race
        self.step = 0
        self.epoch = 0.0
        self.seconds = 0.0
        self.engine_error: str | None = None
        self.version = getattr(self, "version", 0) + 1

    # ------------------------------------------------------------------ queries
    def racer_ids(self) -> list[int]:
        """Racer ids in display order."""
        return list(self.specs)

    @property
    def is_surface(self) -> bool:
        return self.started is not None and self.started.problem.kind == "surface"

    @property
    def has_validation(self) -> bool:
        """Whether the racers report a validation loss (the scenario has a split; a
        results file written before the engine said so tells it by its figures)."""
        if self.started is not None and self.started.problem.has_validation:
            return True
        return any(s.val_loss is not None for s in self.stats.values())

    @property
    def has_accuracy(self) -> bool:
        """Whether the race measures an accuracy (a classification network; not known
        before the engine reports in, so assumed)."""
        return self.started is None or self.started.problem.is_classification

    @property
    def has_target(self) -> bool:
        """Whether the scenario sets a target loss (not known before the engine reports
        in, so assumed)."""
        return self.started is None or self.started.target_loss is not None

    @property
    def is_grid(self) -> bool:
        return self.started is not None and self.started.grid is not None

    @property
    def total_steps(self) -> int | None:
        """Planned number of steps of the whole race, if the scenario bounds it."""
        return None if self.started is None else planned_steps(self.started)

    @property
    def progress(self) -> float | None:
        """Fraction of the race done in [0, 1], or None when it is unbounded."""
        total = self.total_steps
        if not total:
            return None
        return min(1.0, max(0.0, self.step / total))

    def status(self, racer: int) -> Status:
        """The racer's status word ("running" before its first snapshot)."""
        stats = self.stats.get(racer)
        return stats.status if stats is not None else "running"

    # ------------------------------------------------------------------ updates
    def apply(self, message: Any) -> None:
        """Fold one engine message into the model and bump :attr:`version`."""
        if isinstance(message, Snapshot):
            self._apply_snapshot(message)
        elif isinstance(message, RaceStarted):
            self._apply_started(message)
        elif isinstance(message, RacersChanged):
            self._set_racers(message.racers)
        elif isinstance(message, EngineFailed):
            # The first failure is the cause; what follows (other processes stopping,
            # the pipe closing) is its consequence.
            if self.engine_error is None:
                self.engine_error = message.message
            self.state = "stopped"
        elif isinstance(message, WeightsSaved):
            pass  # files on disk: nothing to remember
        elif isinstance(message, CommandRejected):
            self.notices.append(Notice(message.command, message.message))
            del self.notices[:-NOTICE_LIMIT]
        else:
            raise TypeError(f"RaceRecord cannot apply {type(message).__name__}")
        self.version += 1

    def mark_engine_stopped(self, message: str) -> None:
        """Record that the engine process is gone (found by the app, not reported by it)."""
        self.engine_error = message
        self.state = "stopped"
        self.version += 1

    def _apply_started(self, message: RaceStarted) -> None:
        version = self.version
        self.reset()
        self.version = version
        self.started = message
        self._set_racers(message.racers)

    def _set_racers(self, racers: tuple[RacerSpec, ...]) -> None:
        """Make ``racers`` the current racer list, keeping the data of those that stay."""
        keep = {spec.id for spec in racers}
        for rid in self.specs.keys() - keep:
            if rid in self.histories:
                entry = (self.specs[rid], self.histories[rid], self.stats.get(rid))
                self.departed[rid] = entry
        for rid in keep & self.departed.keys() - self.specs.keys():
            _, history, stats = self.departed.pop(rid)
            self.histories[rid] = history
            if stats is not None:
                self.stats[rid] = stats
        self.specs = {spec.id: spec for spec in racers}
        self.stats = {rid: s for rid, s in self.stats.items() if rid in keep}
        with_position = self.is_surface
        self.histories = {
            rid: self.histories.get(rid) or new_history(with_position) for rid in self.specs
        }

    def _apply_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot_count += 1
        self.step = snapshot.step
        self.epoch = snapshot.epoch
        self.seconds = snapshot.seconds
        self.state = snapshot.state
        for stats in snapshot.racers:
            if stats.id not in self.specs:
                continue  # removed while this snapshot was in flight
            self.stats[stats.id] = stats
            feed_history(self.histories[stats.id], stats.new_points)
        if snapshot.events:
            self.events.extend(snapshot.events)
            self.event_count += len(snapshot.events)
            del self.events[:-EVENT_LIMIT]


def finite_or_none(value: float | None) -> float | None:
    """``value`` if it is a finite number, else None (for display code)."""
    if value is None or not math.isfinite(value):
        return None
    return value
