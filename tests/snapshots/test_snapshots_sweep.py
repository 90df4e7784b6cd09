"""SVG snapshots of the sweep screen once its sweep is complete (test mode)."""

from __future__ import annotations

import dataclasses

from tui_optim.scenario import load_scenario
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.testing import sweep_finished


def test_peaks_sweep_80x24(snap_compare) -> None:
    app = TuiOptimApp("peaks_sweep", test_mode=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=sweep_finished)


def test_iris_sweep_160x50(snap_compare) -> None:
    # the built-in's 6 optimizers x 36 learning rates x 5 seeds, 3 epochs instead of 100
    scenario = dataclasses.replace(load_scenario("iris_sweep", check=False), epochs=3)
    app = TuiOptimApp(scenario, test_mode=True)
    assert snap_compare(app, terminal_size=(160, 50), run_before=sweep_finished)
