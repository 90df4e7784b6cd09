"""Time to the target loss: the crossing step itself where the recorder watched for it,
the same whatever the evaluation cadence; marked not exact where it did not."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from recorded_races import recorded

from tui_optim.race import recorder
from tui_optim.race.race import Race
from tui_optim.results.export import leaderboard, write_json
from tui_optim.results.replay import load_record
from tui_optim.scenario import load_scenario


def reached(epochs: int) -> dict[str, tuple[int, bool]]:
    """Racer name -> (steps to the target, exact) in quickstart cut to ``epochs``."""
    race = Race(dataclasses.replace(load_scenario("quickstart"), epochs=epochs))
    while race.state == "running":
        race.advance(1.0)
    return {
        r.spec.name: (r.time_to_target.steps, r.time_to_target.exact)
        for r in race.racers.values()
        if r.time_to_target is not None
    }


def test_the_crossing_step_is_the_one_a_per_step_evaluation_finds() -> None:
    # 30 epochs are 300 steps: fewer than MIN_POINTS, so every step is evaluated
    every_step = reached(30)
    watched = reached(400)  # evaluated every 20 steps, watched near the target
    assert {"Nesterov", "Momentum"} <= set(every_step)
    for name, (steps, exact) in every_step.items():
        assert exact and watched[name] == (steps, True), (name, watched[name], steps)


def test_a_crossing_not_watched_is_the_first_evaluation_below_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recorder, "WATCH_WINDOWS", 0)
    race = Race(dataclasses.replace(load_scenario("quickstart"), epochs=400))
    interval = next(iter(race.groups.values())).eval_every
    while race.state == "running":
        race.advance(1.0)
    targets = [r.time_to_target for r in race.racers.values() if r.time_to_target]
    assert targets
    for target in targets:
        assert not target.exact and target.steps % interval == 0
        assert target.after == target.steps - interval


def test_the_exports_and_the_leaderboard_say_whether_it_is_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder, "WATCH_WINDOWS", 0)
    race = Race(dataclasses.replace(load_scenario("quickstart"), epochs=400))
    record = recorded(race)
    path = tmp_path / "race.json"
    write_json(record, path)
    exported = [r["time_to_target"] for r in json.loads(path.read_text())["racers"]]
    assert exported and all(t["exact"] is False and t["after"] < t["steps"] for t in exported)
    replayed = load_record(path)
    assert all(not s.time_to_target.exact for s in replayed.stats.values() if s.time_to_target)
    assert not any(row.target_exact for row in leaderboard(record))
