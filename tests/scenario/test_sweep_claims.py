"""Every built-in sweep's claims (its ``[[claim]]`` tables) hold in its headless run."""

from __future__ import annotations

import pytest

from tui_optim.race.race import build_problem
from tui_optim.race.sweep import plan_blocks, run_blocks
from tui_optim.results.sweep import SweepRecord
from tui_optim.scenario import Claim, builtin_scenarios, load_scenario

SWEEPS = [name for name in builtin_scenarios() if load_scenario(name, check=False).sweep]


def swept(name: str) -> SweepRecord:
    scenario = load_scenario(name)
    assert scenario.sweep is not None
    problem, _ = build_problem(scenario)
    record = SweepRecord(scenario)
    record.extend(run_blocks(scenario, plan_blocks(scenario.sweep), problem))
    assert record.complete
    return record


def holds(claim: Claim, record: SweepRecord) -> tuple[bool, str]:
    names = [entry.name for entry in record.spec.entries]
    tuned = {name: record.tuned(index) for index, name in enumerate(names)}
    mine = tuned[claim.racer]
    if claim.tuned_lr_between is not None:
        low, high = claim.tuned_lr_between
        if mine.lr is None or not low <= mine.lr <= high:
            return False, f"{claim.racer}'s tuned lr is {mine.lr}, not in [{low}, {high}]"
    if claim.tuned_lr_above is not None:
        other = tuned[claim.tuned_lr_above]
        if mine.lr is None or other.lr is None or not mine.lr > other.lr:
            return False, f"{claim.racer}'s tuned lr {mine.lr}, {claim.tuned_lr_above}'s {other.lr}"
    if claim.tuned_between is not None:
        low, high = claim.tuned_between
        if not low <= mine.spread.median <= high:
            return False, f"{claim.racer} at its tuned lr: {mine.spread.median}"
    if claim.wider_than is not None:
        other = tuned[claim.wider_than]
        if not (mine.width_decades or 0.0) > (other.width_decades or 0.0):
            return False, (
                f"{claim.racer} is {mine.width_decades} decades wide, {claim.wider_than} "
                f"{other.width_decades}"
            )
    if claim.diverges is not None and (mine.diverged > 0) != claim.diverges:
        return False, f"{claim.racer}: {mine.diverged} runs diverged"
    if claim.verdict is not None:
        verdict = record.comparison()["verdict"]
        if not verdict.startswith(claim.verdict):
            return False, f"the verdict is {verdict!r}"
    return True, ""


def test_every_built_in_sweep_makes_claims() -> None:
    assert SWEEPS
    for name in SWEEPS:
        assert load_scenario(name).claims, name


@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_claims_hold(name: str) -> None:
    record = swept(name)
    for claim in load_scenario(name).claims:
        ok, why = holds(claim, record)
        assert ok, f"{name}: {why}"
