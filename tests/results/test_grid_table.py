"""The grid table: final loss / validation accuracy per optimizer and learning rate."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from recorded_races import recorded

from tui_optim.race.race import Race
from tui_optim.results.export import grid_table, write_grid_table
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario


def raced(name: str, epochs: int) -> RaceRecord:
    race = Race(dataclasses.replace(load_scenario(name, check=False), epochs=epochs))
    record = recorded(race)
    return record


def test_the_grid_table_has_a_cell_per_racer_and_exports(tmp_path: Path) -> None:
    record = raced("iris_grid", epochs=3)
    rows, columns, cells = grid_table(record)
    assert rows == ["sgd", "adagrad", "rmsprop", "adam", "adamax", "nadam"]
    assert columns == ["lr 0.1", "lr 0.01", "lr 0.001", "lr 0.0001"]
    by_name = {spec.name: record.stats[rid] for rid, spec in record.specs.items()}
    adam = cells[3][0]
    assert adam is not None
    assert adam.final_loss == by_name["adam lr=0.1"].loss
    assert adam.val_accuracy == by_name["adam lr=0.1"].val_accuracy
    path = tmp_path / "grid.csv"
    write_grid_table(record, path)
    with path.open() as stream:
        table = list(csv.reader(stream))
    assert table[0][:3] == ["", "lr 0.1 final_loss", "lr 0.1 val_accuracy"]
    assert table[4][0] == "adam" and float(table[4][1]) == pytest.approx(adam.final_loss)
    assert len(table) == 7 and all(len(line) == 9 for line in table)


def test_a_race_that_is_not_a_grid_has_no_table() -> None:
    record = raced("quickstart", epochs=1)
    with pytest.raises(ValueError, match="not a grid"):
        grid_table(record)
