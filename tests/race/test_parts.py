"""A race cut into parts (the unit of work of `tui-optim run` on Dask), raced here: the parts
merged hold every racer once, in id order, with its whole history; the parts finished so far
make a stopped race of their racers."""

from __future__ import annotations

import dataclasses

from tui_optim.race.messages import RaceStarted, Snapshot
from tui_optim.race.parts import merged_messages, run_race_part
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario


def record_of(messages: list[object]) -> RaceRecord:
    record = RaceRecord()
    for message in messages:
        record.apply(message)
    return record


def test_the_parts_merged_are_one_finished_race_and_a_part_alone_a_stopped_one() -> None:
    scenario = dataclasses.replace(load_scenario("iris_grid"), epochs=3)
    racers = len(scenario.racers)
    parts = {index: run_race_part(scenario, 3, index) for index in range(3)}
    assert [len(part.started.racers) for part in parts.values()] == [racers // 3] * 3
    assert all(part.snapshots[-1].state == "finished" for part in parts.values())

    messages = merged_messages(parts, 3)
    assert isinstance(messages[0], RaceStarted)
    assert [spec.id for spec in messages[0].racers] == list(range(racers))
    assert all(isinstance(m, Snapshot) and not m.events for m in messages[1:-1])
    events = messages[-1].events
    assert [(e.epoch, e.step, e.racer) for e in events] == sorted(
        (e.epoch, e.step, e.racer) for e in events
    )
    whole = record_of(messages)
    assert whole.state == "finished" and whole.racer_ids() == list(range(racers))
    steps = whole.total_steps
    assert steps is not None and whole.step == steps
    for racer in whole.racer_ids():
        assert whole.histories[racer].arrays()["step"][-1] == steps  # points to the last step

    partial = record_of(merged_messages({1: parts[1]}, 3))
    assert partial.racer_ids() == list(range(1, racers, 3))
    assert partial.state == "stopped"
    assert record_of(merged_messages({}, 3)).started is None
