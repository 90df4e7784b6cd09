"""Keras-flavor racers in a race: the course's zoo end to end, lockstep blocks per flavor,
commands that keep a racer's flavor, and the flavor in the exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from recorded_races import params_of, run_to_end

from tui_optim.engine.data import DataSpec
from tui_optim.engine.optimizers import registry
from tui_optim.race.messages import AddRacer, ForkRacer, SetHparam
from tui_optim.race.race import Race
from tui_optim.results.export import leaderboard, write_csv, write_json
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import ModelSpec, RacerConfig, Scenario, load_scenario

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "keras_parity.npz"


def iris_scenario(racers: list[RacerConfig], epochs: int) -> Scenario:
    return Scenario(
        title="iris flavors",
        description="",
        seed=7,
        epochs=epochs,
        steps=None,
        target_loss=None,
        repeats=1,
        racers=tuple(racers),
        data=DataSpec("iris", scale="standard", validation=0.2),
        batch_size=32,
        model=ModelSpec((4, 8, 3), hidden="selu", output="softmax", loss="cross_entropy"),
        name="iris-flavors",
    )


def keras_racer(name: str, optimizer: str, **hparams: float | bool) -> RacerConfig:
    values = registry("keras")[optimizer].validate(hparams)
    return RacerConfig(name, optimizer, values, flavor="keras")


def torch_racer(name: str, optimizer: str, **hparams: float | bool) -> RacerConfig:
    return RacerConfig(name, optimizer, registry("torch")[optimizer].validate(hparams))


def test_peaks_zoo_races_where_keras_lands() -> None:
    """The built-in scenario, end to end: every racer on Keras 3.15's endpoint."""
    with np.load(FIXTURE) as data:
        cases = json.loads(str(data["peaks_cases"]))
        expected = {case["racer"]: data[f"peaks/{case['racer']}/params"][-1] for case in cases}
    race = Race(load_scenario("peaks_zoo"))
    run_to_end(race)
    ends = params_of(race)
    assert set(ends) == set(expected)
    for name, point in expected.items():
        np.testing.assert_allclose(ends[name], point, rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(ends["RMSprop"], (0.228, -1.626), atol=1e-3)


def test_peaks_zoo_torch_is_the_same_zoo_in_torch_semantics() -> None:
    keras, torch = load_scenario("peaks_zoo"), load_scenario("peaks_zoo_torch")
    assert [r.flavor for r in keras.racers] == ["keras"] * 8
    assert [r.flavor for r in torch.racers] == ["torch"] * 8
    assert [(r.name, r.optimizer, r.hparams["lr"]) for r in keras.racers] == [
        (r.name, r.optimizer, r.hparams["lr"]) for r in torch.racers
    ]
    race = Race(torch)
    run_to_end(race)
    np.testing.assert_allclose(params_of(race)["RMSprop"], (0.136, -1.534), atol=1e-3)


def test_one_optimizer_in_both_flavors_gets_two_blocks_each_as_if_alone() -> None:
    lineup = [
        torch_racer("adam torch", "adam", lr=0.01),
        keras_racer("adam keras", "adam", lr=0.01),
        keras_racer("lamb", "lamb", lr=0.01),
        keras_racer("adafactor", "adafactor", lr=0.05),
        keras_racer("muon", "muon", lr=0.01),
        keras_racer("adam keras 2", "adam", lr=0.001),
    ]
    together = Race(iris_scenario(lineup, epochs=2))
    (group,) = together.groups.values()
    assert len(group.blocks) == 5  # the two keras adams share one
    assert {block.optimizer.flavor for block in group.blocks} == {"torch", "keras"}
    run_to_end(together)
    shared = params_of(together)
    assert not np.allclose(shared["adam torch"], shared["adam keras"])
    for config in lineup:
        alone = Race(iris_scenario([config], epochs=2))
        run_to_end(alone)
        np.testing.assert_allclose(
            params_of(alone)[config.name], shared[config.name], rtol=1e-13, atol=1e-15
        )


def test_commands_keep_or_choose_the_flavor() -> None:
    race = Race(iris_scenario([keras_racer("rms", "rmsprop", lr=0.01)], epochs=1))
    race.handle(ForkRacer(0, {"rho": 0.8}))
    child = race.racers[max(race.racers)]
    assert child.spec.flavor == "keras" and child.hparams["eps"] == 1e-7
    race.handle(SetHparam(child.id, "epsilon", 1e-5))
    assert race.racers[child.id].spec.hparams["eps"] == 1e-5
    race.handle(AddRacer("ftrl", {"learning_rate": 0.1}, flavor="keras"))
    added = race.racers[max(race.racers)]
    assert added.spec.flavor == "keras" and added.spec.optimizer == "ftrl"
    assert added.spec.name == "ftrl lr=0.1"
    run_to_end(race)
    assert race.state == "finished"


def test_exports_carry_the_flavor(tmp_path: Path) -> None:
    scenario = iris_scenario(
        [torch_racer("sgd", "sgd", lr=0.1), keras_racer("sgd k", "sgd", lr=0.1)], epochs=1
    )
    race = Race(scenario)
    record = RaceRecord()
    record.apply(race.started())
    run_to_end(race)
    record.apply(race.snapshot())
    write_json(record, tmp_path / "race.json")
    write_csv(record, tmp_path / "race.csv")
    document = json.loads((tmp_path / "race.json").read_text())
    flavors = {"sgd": "torch", "sgd k": "keras"}
    assert {r["name"]: r["flavor"] for r in document["racers"]} == flavors
    with (tmp_path / "race.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {row["racer"]: row["flavor"] for row in rows} == flavors
    assert {row.name: row.flavor for row in leaderboard(record)} == flavors
