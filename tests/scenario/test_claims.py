"""Every built-in scenario's claims (its ``[[claim]]`` tables) hold in its headless run."""

from __future__ import annotations

import dataclasses
import math

import pytest

from tui_optim.race.race import Race
from tui_optim.scenario import Claim, builtin_scenarios, load_scenario

CLAIMED = [name for name in builtin_scenarios() if load_scenario(name, check=False).claims]


def test_the_surface_scenarios_and_quickstart_make_claims() -> None:
    assert {"quickstart", "rosenbrock", "saddle", "beale", "peaks_learning_rates"} <= set(CLAIMED)


def test_every_built_in_says_what_to_look_for() -> None:
    for name in builtin_scenarios():
        assert len(load_scenario(name, check=False).look_for) > 100, name


def holds(claim: Claim, racers: dict) -> tuple[bool, str]:
    racer = racers[claim.racer]
    if claim.status is not None and racer.status != claim.status:
        return False, f"{claim.racer} ends {racer.status}, not {claim.status}: {racer.reason}"
    if claim.before is not None:
        other = racers[claim.before]
        mine = racer.time_to_target.steps if racer.time_to_target else math.inf
        theirs = other.time_to_target.steps if other.time_to_target else math.inf
        if not mine < theirs:
            return False, f"{claim.racer} reaches the target at {mine}, {claim.before} at {theirs}"
    if claim.beats is not None and not racer.loss < racers[claim.beats].loss:
        return (
            False,
            f"{claim.racer} ends at {racer.loss}, {claim.beats} at {racers[claim.beats].loss}",
        )
    return True, ""


@pytest.mark.parametrize("name", CLAIMED)
def test_claims_hold(name: str) -> None:
    scenario = load_scenario(name)
    if name == "quickstart":  # every racer reaches the target by epoch 211 of 1500
        scenario = dataclasses.replace(scenario, epochs=250)
    race = Race(scenario)
    while race.state == "running":
        race.advance(1.0)
    racers = {r.spec.name: r for r in race.racers.values()}
    for claim in scenario.claims:
        ok, why = holds(claim, racers)
        assert ok, f"{name}: {why}"
