"""Every built-in race's claims (its ``[[claim]]`` tables) hold in its headless run, and no
racer of a built-in flaps (A -> B -> A -> B).

One run per scenario and claim length: a claim with ``at`` is checked on the race cut at
that epoch (a surface race: step), which trains the same as the whole race up to there;
the others on the whole race. The flapping check uses the longest of those runs; the
built-ins whose whole race is too long for the suite (digits_grid_300) carry their claims
``at`` an earlier epoch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from tui_optim.race.race import Race
from tui_optim.race.recorder import Racer
from tui_optim.scenario import Claim, Scenario, builtin_scenarios, load_scenario

RACES = [name for name in builtin_scenarios() if load_scenario(name, check=False).sweep is None]
#: Built-ins whose text asks questions and makes no claim about the race.
QUESTIONS = {"iris_grid", "iris_grid_20", "digits_grid"}
#: Whole races longer than a test may take: their claims must all be checked ``at`` an epoch.
TOO_LONG = {"digits_grid_300"}
#: The validation loss ends at least this fraction above its minimum: overfitting.
OVERFIT_RISE = 0.05


@dataclass
class Run:
    """One headless race to its end: the racers, each one's status changes and history."""

    racers: dict[str, Racer]
    statuses: dict[str, list[str]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    losses: dict[str, list[float]] = field(default_factory=dict)
    val_losses: dict[str, list[float]] = field(default_factory=dict)


def cut(scenario: Scenario, at: int | None) -> Scenario:
    if at is None:
        return scenario
    if scenario.steps is not None:
        return dataclasses.replace(scenario, steps=at)
    return dataclasses.replace(scenario, epochs=at)


def race(scenario: Scenario) -> Run:
    engine = Race(scenario)
    names = {r.id: r.spec.name for r in engine.racers.values()}
    run = Run({})
    while engine.state == "running":
        engine.advance(1.0)
        snapshot = engine.snapshot()
        for event in snapshot.events:
            run.statuses.setdefault(names[event.racer], []).append(event.status)
        for stats in snapshot.racers:
            name, points = names[stats.id], stats.new_points
            run.epochs.setdefault(name, []).extend(points.epoch.tolist())
            run.losses.setdefault(name, []).extend(points.loss.tolist())
            run.val_losses.setdefault(name, []).extend(points.val_loss.tolist())
    run.racers = {r.spec.name: r for r in engine.racers.values()}
    return run


def validation_minimum(run: Run, name: str) -> int:
    """Index of the history point where the racer's validation loss was lowest."""
    values = np.array(run.val_losses[name], dtype=float)
    assert np.isfinite(values).any(), f"{name} has no validation loss"
    return int(np.nanargmin(values))


def overfits(run: Run, name: str) -> bool:
    values, losses = run.val_losses[name], run.losses[name]
    low = validation_minimum(run, name)
    return (
        low < len(values) - 1
        and values[-1] >= (1 + OVERFIT_RISE) * values[low]
        and losses[-1] < losses[low]
    )


def holds(claim: Claim, run: Run) -> tuple[bool, str]:
    racers = run.racers
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
    if claim.near is not None:
        assert racer.position is not None, f"{claim.racer} has no position (not a surface)"
        away = math.dist(racer.position, claim.near)
        if away > claim.within:
            return False, f"{claim.racer} ends at {racer.position}, {away:.3g} from {claim.near}"
    if claim.overfits is not None and overfits(run, claim.racer) != claim.overfits:
        return False, f"{claim.racer}: overfits is {not claim.overfits}"
    if claim.overfits_before is not None:
        mine = run.epochs[claim.racer][validation_minimum(run, claim.racer)]
        theirs = run.epochs[claim.overfits_before][validation_minimum(run, claim.overfits_before)]
        if not mine < theirs:
            return False, (
                f"validation minimum of {claim.racer} at epoch {mine}, of "
                f"{claim.overfits_before} at {theirs}"
            )
    if claim.horizon_at_most is not None:
        horizon = racer.horizon
        if horizon is None or horizon > claim.horizon_at_most:
            return False, f"{claim.racer} predicts {horizon} steps ahead"
    return True, ""


def flaps(statuses: list[str]) -> bool:
    """A -> B -> A -> B anywhere in a racer's status changes, or a return to converged:
    converged holds unless the racer starts diverging, so converged -> diverging ->
    converged was a false alarm."""
    alternates = any(
        a == c and b == d and a != b
        for a, b, c, d in zip(statuses, statuses[1:], statuses[2:], statuses[3:], strict=False)
    )
    returns = any(
        a == c == "converged" and b != a
        for a, b, c in zip(statuses, statuses[1:], statuses[2:], strict=False)
    )
    return alternates or returns


def test_every_built_in_race_makes_claims_unless_it_asks_questions() -> None:
    for name in RACES:
        claimed = bool(load_scenario(name, check=False).claims)
        assert claimed == (name not in QUESTIONS), name


def test_every_built_in_says_what_to_look_for() -> None:
    for name in builtin_scenarios():
        assert len(load_scenario(name, check=False).look_for) > 100, name


def test_flapping_is_a_return_and_a_second_leave() -> None:
    assert flaps(["oscillating", "running", "oscillating", "running"])
    assert flaps(["converged", "diverging", "converged"])
    assert not flaps(["oscillating", "running", "oscillating"])
    assert not flaps(["oscillating", "running", "finished"])


@pytest.mark.parametrize("name", RACES)
def test_claims_hold_and_no_racer_flaps(name: str) -> None:
    scenario = load_scenario(name)
    lengths = sorted({claim.at for claim in scenario.claims}, key=lambda at: at or math.inf)
    if not lengths:
        lengths = [None]
    if name in TOO_LONG:
        assert None not in lengths, f"{name}: every claim must say `at` (the race is too long)"
    runs = {at: race(cut(scenario, at)) for at in lengths}
    for claim in scenario.claims:
        ok, why = holds(claim, runs[claim.at])
        assert ok, f"{name}: {why}"
    longest = runs[lengths[-1]]
    for racer, statuses in longest.statuses.items():
        assert not flaps(statuses), f"{name}: {racer} flaps: {statuses}"
