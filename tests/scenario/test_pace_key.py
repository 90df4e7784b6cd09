"""The scenario key ``pace``: steps per second in the app, or "max"."""

from __future__ import annotations

import math

import pytest

from tui_optim.scenario import ScenarioError, parse_scenario

BASE = 'title = "t"\nsteps = 5\n{}\n[surface]\nfunction = "peaks"\n[[racer]]\noptimizer = "sgd"\n'


@pytest.mark.parametrize(
    ("line", "pace"), [("pace = 5", 5.0), ('pace = "max"', math.inf), ("", None)]
)
def test_pace_values(line: str, pace: float | None) -> None:
    assert parse_scenario(BASE.format(line)).pace == pace


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("pace = 0", 'pace: must be above 0 steps per second (or "max")'),
        ("pace = -2", 'pace: must be above 0 steps per second (or "max")'),
        ('pace = "fast"', "pace: must be a number of steps per second or \"max\", got 'fast'"),
        ("pace = 1e9", "pace: must be at most 1e+06"),
    ],
)
def test_bad_pace_is_one_located_line(line: str, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(BASE.format(line))
    assert str(error.value).startswith(f"<scenario>:3: {message}")
