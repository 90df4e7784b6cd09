"""`tui-optim list optimizers` shows each optimizer once per flavor with that flavor's
defaults, the flavors of one name together."""

from __future__ import annotations

import pytest

from tui_optim.cli import main


def test_list_optimizers_shows_flavors_and_their_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "optimizers"]) == 0
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("│")
    ]
    flavors = [(row[0], row[1]) for row in rows if row[0]]
    assert flavors[:3] == [("sgd", "torch"), ("sgd", "keras"), ("momentum", "torch")]
    assert ("ftrl", "keras") in flavors and ("ftrl", "torch") not in flavors
    defaults = {(row[0], row[1]): row[3] for row in rows if row[0]}
    assert "alpha=0.99, eps=1e-08" in defaults["rmsprop", "torch"]
    assert "rho=0.9, momentum=0.0, eps=1e-07" in defaults["rmsprop", "keras"]
    assert "initial_accumulator_value=0.1" in defaults["adagrad", "keras"]
    summaries = {(row[0], row[1]): row[2] for row in rows if row[0]}
    assert "E[dx^2]" in summaries["adadelta", "keras"]  # not eaten as markup
