"""The sweep screen against real worker processes: it fills in, then races the tuned lrs."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import DataTable

from tui_optim.scenario import parse_scenario
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.screens.sweep import SweepScreen
from tui_optim.ui.testing import settle, sweep_finished, wait_until
from tui_optim.ui.widgets.loss_chart import LossChart, repeat_quartiles

SWEEP = """\
title = "tiny"
seed = 1
epochs = 2

[data]
source = "iris"
scale = "standard"
batch_size = 32

[model]
layers = [4, 4, 3]
hidden = "selu"
output = "softmax"
loss = "cross_entropy"

[sweep]
optimizer = ["sgd", "adam"]
lr = [0.01, 0.1]
seeds = 3
"""


def test_repeat_quartiles_are_median_and_iqr_per_point() -> None:
    stack = np.array([[1.0, 4.0], [2.0, np.nan], [3.0, 6.0], [4.0, 8.0], [5.0, 2.0]])
    low, middle, high = repeat_quartiles(stack)
    assert middle.tolist() == [3.0, 5.0] and low.tolist() == [2.0, 3.5]
    assert high.tolist() == [4.0, 6.5]


async def test_the_sweep_fills_in_then_r_races_the_tuned_lrs_with_iqr_bands() -> None:
    app = TuiOptimApp(parse_scenario(SWEEP, name="tiny"), test_mode=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await sweep_finished(pilot)
        screen = app.screen
        assert isinstance(screen, SweepScreen) and screen.record.complete
        assert screen.pool is None  # the workers stopped with the sweep
        assert "12/12 runs" in str(screen.query_one("#sweep-title").render())
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), what="the race")
        await settle(pilot)
        assert app.scenario is not None and app.scenario.repeats == 3
        names = [line[0] for line in app.screen.query_one(LossChart)._series(app.model)]
        tuned = [name for name in names if not name.endswith(("q25", "q75"))]
        assert len(tuned) == 2 and all(" lr=" in name for name in tuned)
        assert sum(name.endswith("q75") for name in names) == 2
        await pilot.press("b")  # the leaderboard shows each tuned optimizer's P(win)
        await pilot.pause(0.5)
        board = app.screen.query_one(DataTable)
        assert str(board.ordered_columns[-1].label) == "P(win)"
        wins = [str(board.get_row_at(i)[-1]) for i in range(board.row_count)]
        assert sum(float(w) for w in wins) == pytest.approx(1.0, abs=0.02)
