"""SVG snapshots of the view screens after a finished short race (test mode: no clocks)."""

from __future__ import annotations

from textual.pilot import Pilot

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.testing import caught_up, settle, short_scenario


def opened(key: str):
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press(key)
        await caught_up(pilot)

    return run_before


def app_for(name: str, epochs: int = 12) -> TuiOptimApp:
    return TuiOptimApp(short_scenario(name, epochs=epochs, steps=40), test_mode=True)


class TestSurfaceView:
    """The peaks surface with the optimizer zoo's paths, at two sizes."""

    def test_peaks_zoo_surface_120x40(self, snap_compare) -> None:
        assert snap_compare(app_for("peaks_zoo"), terminal_size=(120, 40), run_before=opened("v"))

    def test_local_minima_surface_80x24(self, snap_compare) -> None:
        assert snap_compare(
            app_for("peaks_local_minima"), terminal_size=(80, 24), run_before=opened("v")
        )


class TestGridView:
    """Exercise A's grid: optimizers in rows, learning rates in columns."""

    def test_iris_grid_160x50(self, snap_compare) -> None:
        assert snap_compare(app_for("iris_grid"), terminal_size=(160, 50), run_before=opened("g"))


class TestLeaderboard:
    """The ranking, DNF last."""

    def test_leaderboard_120x40(self, snap_compare) -> None:
        assert snap_compare(
            app_for("iris_grid_20"), terminal_size=(120, 40), run_before=opened("b")
        )


class TestDetail:
    """Per-layer figures of the selected racer."""

    def test_detail_120x40(self, snap_compare) -> None:
        assert snap_compare(
            app_for("quickstart"), terminal_size=(120, 40), run_before=opened("enter")
        )
