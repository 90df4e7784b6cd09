"""Exports and the leaderboard, from a real race folded into a RaceRecord."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

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
        target_loss=0.4,
        **changes,
    )
    race = Race(scenario)
    record = RaceRecord()
    record.apply(race.started())
    while race.state == "running":
        race.advance(0.5)
        record.apply(race.snapshot())
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
