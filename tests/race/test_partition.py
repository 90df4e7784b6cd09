"""A race's verdicts are the same however it is sliced in time or split over processes."""

from __future__ import annotations

import dataclasses

from tui_optim.race.partition import group_count, lockstep_groups
from tui_optim.race.race import Race
from tui_optim.scenario import RacerConfig, Scenario, load_scenario


def two_seeds() -> Scenario:
    """Two seeds (two lockstep groups) of racers that stall, creep and converge with no
    target: their verdicts compare each with the best racer."""
    base = load_scenario("iris_grid")
    racers = (
        RacerConfig("adam", "adam", {"lr": 0.05}),
        RacerConfig("slow sgd", "sgd", {"lr": 1e-4}),
        RacerConfig("sgd", "sgd", {"lr": 0.05}),
    )
    return dataclasses.replace(
        base, racers=racers, grid=None, epochs=60, repeats=2, target_loss=None, claims=()
    )


def verdicts(race: Race, seconds: float) -> dict[int, tuple[str, str, list[tuple[float, str]]]]:
    while race.state == "running":
        race.advance(seconds)
    race.snapshot()
    events: dict[int, list[tuple[float, str]]] = {}
    for event in race.events:
        events.setdefault(event.racer, []).append((event.epoch, event.reason))
    return {
        rid: (racer.status, racer.reason, events.get(rid, []))
        for rid, racer in race.racers.items()
    }


def test_groups_are_seeds_and_batch_sizes() -> None:
    scenario = two_seeds()
    assert lockstep_groups(scenario) == [0, 0, 0, 1, 1, 1]
    sizes = (*scenario.racers[:2], dataclasses.replace(scenario.racers[2], batch_size=0))
    assert lockstep_groups(dataclasses.replace(scenario, racers=sizes)) == [0, 0, 1, 2, 2, 3]
    assert group_count(dataclasses.replace(scenario, racers=sizes)) == 4


def test_verdicts_do_not_depend_on_time_slices_or_the_split() -> None:
    scenario = two_seeds()
    fine = verdicts(Race(scenario), 0.0005)
    coarse = verdicts(Race(scenario), 10.0)
    assert any("best racer" in reason for _, reason, _ in fine.values()) or any(
        "best racer" in text for *_, events in fine.values() for _, text in events
    ), "the case must exercise the comparison with the best racer"
    assert fine == coarse
    split = {
        **verdicts(Race(scenario, subset=(0, 2)), 0.0005),
        **verdicts(Race(scenario, subset=(1, 2)), 10.0),
    }
    assert split == fine
