"""Ranking by gradient evaluations to the target: a racer that takes fewer steps but
evaluates the gradient twice a step (SAM) can lose to one that takes more steps."""

from __future__ import annotations

from recorded_races import recorded

from tui_optim.race.race import Race
from tui_optim.results.export import leaderboard
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import parse_scenario

SCENARIO = """
title = "steps or gradient evaluations"
steps = 200
target_loss = -6.5
rank_by = "grad_evals_to_target"

[surface]
function = "peaks"
start = [-0.35, -0.67]

[[racer]]
optimizer = "sgd"
name = "sgd"
lr = 0.02

[[racer]]
optimizer = "sam"
name = "sam"
rho = 0.001
inner = { optimizer = "sgd", lr = 0.03 }
"""


def finished(text: str) -> RaceRecord:
    race = Race(parse_scenario(text))
    record = recorded(race, 0.1)
    return record


def test_ranking_by_gradient_evaluations_differs_from_ranking_by_steps() -> None:
    record = finished(SCENARIO)
    by_evals = leaderboard(record)
    by_steps = leaderboard(record, "time_to_target")
    rows = {row.name: row for row in by_evals}
    sam, sgd = rows["sam"], rows["sgd"]
    assert sam.steps_to_target is not None and sgd.steps_to_target is not None
    assert sam.steps_to_target < sgd.steps_to_target  # sam gets there in fewer steps ...
    assert sam.grad_evals_to_target == 2 * sam.steps_to_target
    assert sgd.grad_evals_to_target < sam.grad_evals_to_target  # ... but more evaluations
    assert [row.name for row in by_steps] == ["sam", "sgd"]
    assert [row.name for row in by_evals] == ["sgd", "sam"]
