"""Optimizers that evaluate the gradient again (L-BFGS, SAM) race through the closure the
group gives them; every racer counts its gradient evaluations into history, time to target,
exports and the leaderboard; full-batch families refuse mini-batches; wrappers validate,
group and fork."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recorded_races import recorded

from tui_optim.engine.data import DataSpec
from tui_optim.engine.optimizers import HyperparameterError, get_optimizer
from tui_optim.race.messages import AddRacer, CommandRejected, ForkRacer, SetHparam
from tui_optim.race.race import Race, RaceError
from tui_optim.results.export import leaderboard, write_csv, write_json
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import (
    ModelSpec,
    RacerConfig,
    Scenario,
    ScenarioError,
    parse_scenario,
)


def racer(name: str, optimizer: str, **keys: Any) -> RacerConfig:
    return RacerConfig(name, optimizer, get_optimizer(optimizer).validate(keys))


def iris(racers: list[RacerConfig], steps: int = 12, **changes: Any) -> Scenario:
    scenario = Scenario(
        title="closures",
        description="",
        seed=3,
        epochs=None,
        steps=steps,
        target_loss=None,
        repeats=1,
        racers=tuple(racers),
        data=DataSpec("iris", scale="standard", validation=0.2),
        batch_size=None,
        model=ModelSpec((4, 6, 3), hidden="tanh", output="softmax", loss="cross_entropy"),
        name="closures",
    )
    return dataclasses.replace(scenario, **changes)


def run(scenario: Scenario) -> tuple[Race, RaceRecord]:
    race = Race(scenario)
    record = recorded(race)
    return race, record


LINEUP = [
    racer("adam", "adam", lr=0.01),
    racer("sam", "sam", inner={"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}),
    racer("lbfgs 3", "lbfgs", max_iter=3),
    racer("lbfgs wolfe", "lbfgs", max_iter=6, line_search_fn="strong_wolfe"),
]


def test_every_racer_counts_its_gradient_evaluations() -> None:
    race, record = run(iris(LINEUP, target_loss=0.45))
    counts = {r.spec.name: r.grad_evals for r in race.racers.values()}
    assert counts["adam"] == 12
    assert counts["sam"] == 24
    assert 12 < counts["lbfgs 3"] <= 12 * 3
    assert counts["lbfgs wolfe"] > 12 and counts["lbfgs wolfe"] != counts["lbfgs 3"]
    for rid, spec in record.specs.items():
        history = record.histories[rid].arrays()
        assert history["grad_evals"][-1] == counts[spec.name]
        assert np.all(np.diff(history["grad_evals"]) >= np.diff(history["step"]))
        stats = record.stats[rid]
        assert stats.grad_evals == counts[spec.name]
    reached = {
        record.specs[rid].name: stats.time_to_target
        for rid, stats in record.stats.items()
        if stats.time_to_target is not None
    }
    assert reached["lbfgs 3"].grad_evals > reached["lbfgs 3"].steps
    rows = {row.name: row for row in leaderboard(record)}
    assert rows["lbfgs 3"].grad_evals_to_target == reached["lbfgs 3"].grad_evals


def test_exports_carry_gradient_evaluations(tmp_path: Path) -> None:
    _, record = run(iris(LINEUP[:2], steps=4))
    write_json(record, tmp_path / "race.json")
    document = json.loads((tmp_path / "race.json").read_text())
    sam = next(r for r in document["racers"] if r["name"] == "sam")
    assert sam["grad_evals"] == 8 and sam["history"]["grad_evals"][-1] == 8
    write_csv(record, tmp_path / "race.csv")
    with (tmp_path / "race.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {row["grad_evals"] for row in rows if row["racer"] == "sam"} >= {"8"}


def test_lbfgs_rows_stay_independent_in_one_block() -> None:
    """Racing together (one block, rows evaluated alone) equals racing alone."""
    together, _ = run(iris(LINEUP[2:]))
    for config in LINEUP[2:]:
        alone, _ = run(iris([config]))
        (mine,) = alone.racers.values()
        theirs = next(r for r in together.racers.values() if r.spec.name == config.name)
        np.testing.assert_array_equal(alone.current_params(mine), together.current_params(theirs))
        assert mine.grad_evals == theirs.grad_evals


def test_a_regrouped_lbfgs_racer_keeps_its_history() -> None:
    """Adding a racer rebuilds the group; L-BFGS's curvature pairs survive it."""
    plain, _ = run(iris([LINEUP[2]], steps=8))
    race = Race(iris([LINEUP[2]], steps=8))
    race.advance(0.0)  # at least one step
    steps = race.racers[0].steps
    assert 0 < steps < 8
    race.handle(AddRacer("sam", {"inner": {"optimizer": "adam"}}))
    while race.state == "running":
        race.advance(1.0)
    np.testing.assert_array_equal(
        race.current_params(race.racers[0]), plain.current_params(plain.racers[0])
    )


def test_wrappers_change_and_fork_with_inner_hyperparameters() -> None:
    race = Race(iris([racer("la", "lookahead", k=3, inner="adam")], steps=3))
    race.handle(SetHparam(0, "inner.lr", 0.02))
    race.handle(SetHparam(0, "alpha", 0.7))
    assert race.racers[0].hparams["alpha"] == 0.7
    (block,) = race.groups[next(iter(race.groups))].blocks
    assert block.optimizer.inner.h["lr"][0, 0] == 0.02  # type: ignore[attr-defined]
    (reply,) = race.handle(SetHparam(0, "inner.lr", -1.0))
    assert isinstance(reply, CommandRejected) and "lookahead.inner: adam.lr" in reply.message
    race.handle(ForkRacer(0, {"inner.lr": 0.05}, name="faster"))
    while race.state == "running":
        race.advance(1.0)
    child = next(r for r in race.racers.values() if r.spec.name == "faster")
    assert child.hparams["inner"] == "adam" and child.hparams["inner.lr"] == 0.05
    assert not np.array_equal(race.current_params(child), race.current_params(race.racers[0]))


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"inner": "adma"}, "lookahead.inner: "),
        ({"inner": {"lr": 0.1}}, "needs an optimizer"),
        ({"inner": {"optimizer": "adam", "lr": -1}}, "lookahead.inner: adam.lr"),
        ({"inner": "sam"}, "wrappers do not nest"),
        ({"inner.lr": 0.1}, "give the inner optimizer's hyperparameters with it"),
        ({"inner": 3}, "an optimizer name or a table"),
    ],
)
def test_wrapper_errors_are_one_line(given: dict, fragment: str) -> None:
    with pytest.raises(HyperparameterError) as error:
        get_optimizer("lookahead").validate(given)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_sam_refuses_an_inner_that_evaluates_itself() -> None:
    with pytest.raises(HyperparameterError, match=r"sam\.inner cannot be lbfgs"):
        get_optimizer("sam").validate({"inner": "lbfgs"})


def test_validated_wrapper_keys_round_trip_and_keep_only_changed_inner_values() -> None:
    cls = get_optimizer("lookahead")
    values = cls.validate({"inner": {"optimizer": "Adam", "lr": 0.01, "betas": [0.9, 0.99]}})
    assert values == {"k": 5, "alpha": 0.5, "inner": "adam", "inner.lr": 0.01, "inner.beta2": 0.99}
    assert cls.validate(values) == values
    assert cls.block_key(values) != cls.block_key(cls.validate({"inner": "sgd"}))


SCENARIO = """
title = "t"
steps = 5
[data]
source = "iris"
batch_size = {batch}
[model]
layers = [4, 3]
output = "softmax"
loss = "cross_entropy"
[[racer]]
optimizer = "adam"
[[racer]]
{racer}
"""


@pytest.mark.parametrize(
    ("batch", "racer_text", "key"),
    [
        ("16", 'optimizer = "lbfgs"', "racer[2].optimizer"),
        ("16", 'optimizer = "lookahead"\ninner = "lbfgs"', "racer[2].optimizer"),
        ('"full"', 'optimizer = "lbfgs"\nbatch_size = 8', "racer[2].batch_size"),
    ],
)
def test_full_batch_families_refuse_mini_batches(batch: str, racer_text: str, key: str) -> None:
    text = SCENARIO.format(batch=batch, racer=racer_text)
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, name="t")
    message = str(error.value)
    assert key in message and 'batch_size = "full"' in message and "\n" not in message


def test_full_batch_scenarios_accept_lbfgs_and_the_race_refuses_adding_it_to_batches() -> None:
    scenario = parse_scenario(SCENARIO.format(batch='"full"', racer='optimizer = "lbfgs"'))
    assert scenario.racers[1].optimizer == "lbfgs"
    race = Race(iris([LINEUP[0]], batch_size=16))
    (reply,) = race.handle(AddRacer("lbfgs", {}))
    assert isinstance(reply, CommandRejected) and "full batch" in reply.message
    with pytest.raises(RaceError):
        Race(iris([LINEUP[2]], batch_size=16))
