"""Replay: the JSON export holds the race, and the record at any step is the race then."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from recorded_races import recorded

from tui_optim.race.race import Race
from tui_optim.results.export import write_json
from tui_optim.results.record import RaceRecord
from tui_optim.results.replay import ReplayError, load_record, record_at, recorded_steps
from tui_optim.scenario import load_scenario


def watched(name: str) -> RaceRecord:
    """The record of a whole race, as a watcher folds it."""
    race = Race(load_scenario(name), pace=None)
    record = RaceRecord()
    record.apply(race.started())
    record.apply(race.snapshot())
    while race.state == "running":
        race.advance(0.0)  # about one step per call on a surface
        record.apply(race.snapshot())
    return record


def test_export_round_trip_keeps_histories_paths_and_events(tmp_path: Path) -> None:
    record = watched("peaks_zoo")
    path = tmp_path / "race.json"
    write_json(record, path)
    again = load_record(path)
    assert again.started.fingerprint == record.started.fingerprint
    assert again.started.problem.surface == "peaks"
    assert list(again.specs) == list(record.specs)
    for rid in record.specs:
        ours, theirs = record.histories[rid].arrays(), again.histories[rid].arrays()
        np.testing.assert_array_equal(ours["step"], theirs["step"])
        np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-15)
        np.testing.assert_allclose(ours["position"], theirs["position"], rtol=1e-15)
        assert again.stats[rid].position == pytest.approx(record.stats[rid].position)
        assert again.status(rid) == record.status(rid)
    assert [e.reason for e in again.events] == [e.reason for e in record.events]
    assert again.state == "finished" and again.step == 10


def test_record_at_a_step_is_the_race_then() -> None:
    record = watched("peaks_zoo")
    assert recorded_steps(record) == list(range(11))
    view = record_at(record, 4)
    assert view.step == 4 and view.state == "paused"
    for rid in record.specs:
        full = record.histories[rid].arrays()
        cut = view.histories[rid].arrays()
        assert cut["step"].tolist() == [1.0, 2.0, 3.0, 4.0]
        assert view.stats[rid].loss == full["loss"][3]
        # where the racer stood after 4 steps: where its 4th point was evaluated
        assert view.stats[rid].position == tuple(full["position"][3])
    assert all(event.step <= 4 for event in view.events)
    assert record_at(record, 10).stats == record.stats
    assert record_at(record, 4).version != record_at(record, 4).version


def test_bad_files_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    with pytest.raises(ReplayError, match="cannot read it"):
        load_record(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ReplayError, match="not a JSON file"):
        load_record(broken)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"racers": []}), encoding="utf-8")
    with pytest.raises(ReplayError, match="no replay section"):
        load_record(old)


def test_export_round_trip_keeps_the_grid_and_the_last_layer_figures(tmp_path: Path) -> None:
    import dataclasses

    race = Race(dataclasses.replace(load_scenario("iris_grid_20"), epochs=2), pace=None)
    record = recorded(race, 0.05)
    path = tmp_path / "grid.json"
    write_json(record, path)
    again = load_record(path)
    assert again.started.grid == record.started.grid and again.is_grid
    for rid, spec in record.specs.items():
        assert again.specs[rid].grid_position == spec.grid_position
        layers = record.stats[rid].layers
        assert layers and again.stats[rid].layers == layers


def test_scrubbing_reaches_the_last_step_between_two_points() -> None:
    from tui_optim.results.replay import scrub_target

    record = watched("peaks_zoo")
    assert scrub_target(record, 10, -1) == 9 and scrub_target(record, 0, -1) == 0
    record.step = 12  # paused two steps after the last evaluation
    assert scrub_target(record, 12, -1) == 10
    assert scrub_target(record, 9, 1) == 10 and scrub_target(record, 10, 1) == 12
    assert scrub_target(record, 3, 10**9) == 12 and scrub_target(record, 3, -(10**9)) == 0


def test_texts_of_a_results_file_reach_the_screen_printable(tmp_path: Path) -> None:
    """A results file is input like a scenario: an escape sequence in a name, title or
    reason is shown as its characters, never sent to the terminal."""
    record = watched("peaks_zoo")
    path = tmp_path / "race.json"
    write_json(record, path)
    document = json.loads(path.read_text())
    document["title"] = "\x1b]0;owned\x07"
    document["racers"][0]["name"] = "\x1b[2Jgone"
    document["replay"]["events"][0]["reason"] = "\x1b[31mred"
    path.write_text(json.dumps(document))
    again = load_record(path)
    texts = [again.started.title, again.started.racers[0].name, again.events[0].reason]
    assert texts == ["\\x1b]0;owned\\x07", "\\x1b[2Jgone", "\\x1b[31mred"]
