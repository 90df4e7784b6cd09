"""RaceRecord: the watcher's model folded from a real race's messages, and its limits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tui_optim.race.messages import (
    CommandRejected,
    EngineFailed,
    Event,
    Pause,
    RemoveRacer,
    Snapshot,
    WeightsSaved,
)
from tui_optim.race.race import Race
from tui_optim.results.record import EVENT_LIMIT, NOTICE_LIMIT, RaceRecord, finite_or_none
from tui_optim.scenario import load_scenario


def race_of(name: str, **changes: object) -> Race:
    return Race(dataclasses.replace(load_scenario(name, check=False), **changes))


def quickstart_under_way() -> tuple[Race, RaceRecord]:
    """A quickstart race a few steps in, and a record of its start and first snapshot."""
    race = race_of("quickstart", epochs=2)
    record = RaceRecord()
    record.apply(race.started())
    race.advance(0.05)
    record.apply(race.snapshot())
    return race, record


def test_before_the_engine_reports_nothing_is_known() -> None:
    record = RaceRecord()
    assert record.started is None and record.snapshot_count == 0
    assert record.racer_ids() == [] and record.status(0) == "running"
    assert record.total_steps is None and record.progress is None
    assert not record.is_surface and not record.is_grid


def test_a_whole_race_folds_into_the_record() -> None:
    race = race_of("peaks_learning_rates", steps=12)
    record = RaceRecord()
    record.apply(race.started())
    assert record.racer_ids() == [spec.id for spec in race.started().racers]
    assert record.is_surface and record.total_steps == 12
    points = {rid: 0 for rid in record.racer_ids()}
    while race.state == "running":
        race.advance(0.01)
        snapshot = race.snapshot()
        for stats in snapshot.racers:
            points[stats.id] += len(stats.new_points.step)
        version = record.version
        record.apply(snapshot)
        assert record.version == version + 1
    assert record.state == "finished" and record.step == 12 and record.progress == 1.0
    for rid in record.racer_ids():
        history = record.histories[rid]
        assert len(history) == points[rid] > 0
        assert record.status(rid) == record.stats[rid].status != "running"
        arrays = history.arrays()
        assert arrays["loss"][-1] == record.stats[rid].loss
        assert arrays["position"].shape == (points[rid], 2)  # where the racer went


def test_removing_a_racer_drops_its_data_and_keeps_the_others() -> None:
    race, record = quickstart_under_way()
    race.advance(0.05)
    in_flight = race.snapshot()  # sent before the removal, applied after it
    first, *rest = record.racer_ids()
    kept = {rid: record.histories[rid] for rid in rest}
    for reply in race.handle(RemoveRacer(first)):
        record.apply(reply)
    assert record.racer_ids() == rest and first not in record.stats
    assert all(record.histories[rid] is kept[rid] for rid in rest)
    record.apply(in_flight)
    assert record.racer_ids() == rest and first not in record.stats
    assert set(record.stats) == set(rest)


def test_a_new_race_forgets_the_old_one_but_the_version_keeps_counting() -> None:
    race, record = quickstart_under_way()
    record.apply(CommandRejected("set", "no"))
    version = record.version
    record.apply(race.started())
    assert record.version > version
    assert record.snapshot_count == 0 and record.notices == [] and record.events == []
    assert all(len(history) == 0 for history in record.histories.values())


def test_the_first_engine_failure_is_the_cause_kept() -> None:
    record = RaceRecord()
    record.apply(EngineFailed("engine error: out of memory"))
    record.apply(EngineFailed("engine process 2 exited"))
    assert record.engine_error == "engine error: out of memory" and record.state == "stopped"
    record.mark_engine_stopped("the engine process was killed")
    assert record.engine_error == "the engine process was killed"


def test_events_and_notices_are_bounded_but_counted() -> None:
    record = RaceRecord()
    events = tuple(Event(0, step, step, 0.0, "running", f"e{step}") for step in range(40))
    for chunk in range(EVENT_LIMIT // 40 + 3):
        record.apply(Snapshot(chunk, float(chunk), 0.0, "running", (), events))
    assert len(record.events) == EVENT_LIMIT
    assert record.event_count == 40 * (EVENT_LIMIT // 40 + 3)
    for n in range(NOTICE_LIMIT + 5):
        record.apply(CommandRejected("set", f"rejected {n}"))
    assert len(record.notices) == NOTICE_LIMIT
    assert record.notices[-1].message == f"rejected {NOTICE_LIMIT + 4}"


def test_weights_saved_changes_nothing_but_the_version() -> None:
    record = RaceRecord()
    version = record.version
    record.apply(WeightsSaved(("a.npz",)))
    assert record.version == version + 1 and record.state == "paused"


def test_an_unknown_message_is_refused_and_changes_nothing() -> None:
    record = RaceRecord()
    version = record.version
    with pytest.raises(TypeError, match="cannot apply Pause"):
        record.apply(Pause())
    assert record.version == version


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.5, 1.5), (0.0, 0.0), (None, None), (float("nan"), None), (np.inf, None), (-np.inf, None)],
)
def test_finite_or_none(value: float | None, shown: float | None) -> None:
    assert finite_or_none(value) == shown
