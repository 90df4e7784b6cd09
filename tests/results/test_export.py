"""Exports and the leaderboard, from a real race folded into a RaceRecord."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from recorded_races import recorded

from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.race.race import Race
from tui_optim.results.export import leaderboard, results_document, write_csv, write_json
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import RacerConfig, load_scenario


def raced(racers: list[RacerConfig], epochs: int = 30, **changes: object) -> RaceRecord:
    scenario = dataclasses.replace(
        load_scenario("iris_grid"),
        racers=tuple(racers),
        epochs=epochs,
        grid=None,
        **{"target_loss": 0.4, **changes},
    )
    race = Race(scenario)
    record = recorded(race, 0.5)
    return record


def racer(name: str, optimizer: str, lr: float) -> RacerConfig:
    return RacerConfig(name, optimizer, OPTIMIZERS[optimizer].validate({"lr": lr}))


def test_leaderboard_ranks_by_time_to_target_with_dnf_last() -> None:
    record = raced(
        [racer("slow", "sgd", 0.001), racer("hot", "sgd", 1e4), racer("fast", "adam", 0.05)]
    )
    rows = leaderboard(record)
    assert [row.name for row in rows] == ["fast", "slow", "hot"]
    assert rows[0].rank == 1 and rows[0].steps_to_target is not None
    assert rows[1].steps_to_target is None  # never reached 0.4
    assert rows[2].dnf and rows[2].status == "diverged"


def test_repeats_are_mean_and_std() -> None:
    record = raced([racer("adam", "adam", 0.01)], epochs=5, repeats=3)
    (row,) = leaderboard(record)
    assert row.runs == 3 and row.loss is not None and row.loss_std is not None
    assert row.loss_std > 0  # three seeds, three different races


def test_json_is_valid_and_complete(tmp_path: Path) -> None:
    record = raced([racer("hot", "sgd", 1e4), racer("adam", "adam", 0.01)], epochs=10)
    path = tmp_path / "race.json"
    write_json(record, path)
    document = json.loads(path.read_text())  # strict JSON: NaN became null
    assert document == json.loads(json.dumps(results_document(record), allow_nan=False))
    hot = document["racers"][0]
    assert hot["status"] == "diverged" and hot["events"][0]["status"] == "diverged"
    assert hot["time_to_target"] is None
    adam = document["racers"][1]
    assert adam["final"]["val_accuracy"] is not None
    assert len(adam["history"]["step"]) == len(adam["history"]["loss"]) > 10


def test_csv_has_a_row_per_racer_and_point(tmp_path: Path) -> None:
    record = raced([racer("a", "adam", 0.01), racer("b", "sgd", 0.1)], epochs=4)
    path = tmp_path / "race.csv"
    write_csv(record, path)
    rows = list(csv.DictReader(path.open()))
    points = sum(len(h) for h in record.histories.values())
    assert len(rows) == points and {r["racer"] for r in rows} == {"a", "b"}
    assert rows[0].keys() >= {"step", "epoch", "seconds", "loss", "val_loss", "grad_norm"}


def test_csv_has_optimizer_hyperparameters_repeat_and_seed_columns(tmp_path: Path) -> None:
    record = raced([racer("a", "adam", 0.01), racer("b", "sgd", 0.1)], epochs=3, repeats=2)
    path = tmp_path / "race.csv"
    write_csv(record, path)
    rows = list(csv.DictReader(path.open()))
    assert rows[0].keys() >= {"optimizer", "repeat", "seed", "lr", "beta1", "momentum"}
    adam = next(r for r in rows if r["racer"] == "a" and r["repeat"] == "1")
    assert adam["lr"] == "0.01" and adam["beta1"] == "0.9" and adam["momentum"] == ""
    assert {r["seed"] for r in rows} == {"42", "43"}
    assert all(r["loss"] and r["batch_loss"] for r in rows)


def test_json_aggregates_each_configuration_over_its_seeds() -> None:
    record = raced([racer("adam", "adam", 0.05)], epochs=20, repeats=3)
    (entry,) = results_document(record)["aggregates"]
    assert entry["runs"] == 3 and entry["seeds"] == [42, 43, 44]
    assert entry["loss"]["mean"] is not None and entry["loss"]["std"] > 0
    reached = {r["seed"] for r in results_document(record)["racers"] if r["time_to_target"]}
    assert set(entry["seeds_reaching_target"]) == reached


def test_the_default_ranking_is_the_final_validation_loss() -> None:
    # the racer with the lowest best mini-batch loss is not the one that generalises best
    record = raced(
        [racer("sgd", "sgd", 0.1), racer("adam", "adam", 0.1), racer("slow", "sgd", 0.001)],
        epochs=200,
        target_loss=None,
    )
    rows = leaderboard(record)
    val = [row.val_loss for row in rows]
    assert val == sorted(val)
    by_loss = leaderboard(record, rank_by="loss")
    assert [row.loss for row in by_loss] == sorted(row.loss for row in by_loss)
    by_accuracy = leaderboard(record, rank_by="val_accuracy")
    accuracy = [row.val_accuracy for row in by_accuracy]
    assert accuracy == sorted(accuracy, reverse=True)


def test_replay_events_do_not_depend_on_the_order_processes_reported_them() -> None:
    record = raced(
        [racer("hot", "sgd", 1e4), racer("adam", "adam", 0.05), racer("slow", "sgd", 1e-4)]
    )
    assert len({event.racer for event in record.events}) >= 2
    in_order = results_document(record)["replay"]["events"]
    # Two engine processes: each racer's events keep their order, the racers interleave
    # as the processes' timing had it.
    record.events.sort(key=lambda event: -event.racer)
    assert results_document(record)["replay"]["events"] == in_order
