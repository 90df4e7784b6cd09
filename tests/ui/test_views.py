"""Pilot tests of the view screens against the real engine: surface, grid, board, detail."""

from __future__ import annotations

import re

from textual.widgets import DataTable, Static

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.detail import DetailScreen
from tui_optim.ui.screens.export import ExportScreen
from tui_optim.ui.screens.grid import GridScreen
from tui_optim.ui.screens.leaderboard import LeaderboardScreen
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.screens.surface import SurfacePlot, SurfaceScreen
from tui_optim.ui.testing import caught_up, settle, short_scenario
from tui_optim.ui.widgets.param_table import ParamTable

SIZE = (120, 40)


def app_for(name: str, epochs: int = 6) -> TuiOptimApp:
    return TuiOptimApp(short_scenario(name, epochs=epochs), test_mode=True)


async def test_surface_view_draws_paths_zooms_and_pans() -> None:
    app = app_for("peaks_zoo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await caught_up(pilot)
        assert isinstance(app.screen, SurfaceScreen)
        plot = app.screen.query_one(SurfacePlot)
        text = str(plot.render())
        assert "●" in text and "◇" in text  # positions, start
        # the minimum's ✚ may lie under a racer that reached it; the title names the mark
        assert "known minimum" in str(app.screen.query_one("#surface-title", Static).render())
        legend = str(app.screen.query_one("#surface-legend", Static).render())
        assert all(spec.name in legend for spec in app.model.specs.values())
        before = plot.view
        await pilot.press("plus")
        assert plot.view[1] - plot.view[0] < before[1] - before[0]
        zoomed = plot.view
        await pilot.press("l")  # pan right (the arrows scrub a finished race)
        assert plot.view[0] > zoomed[0]
        await pilot.press("0")
        assert plot.view == tuple(plot.surface.bounds)
        await pilot.press("escape")
        assert isinstance(app.screen, RaceScreen)


def test_surface_cells_map_points_inside_the_view() -> None:
    plot = SurfacePlot("peaks")  # bounds -3..3 on both axes
    assert plot.cell_of(-3.0, 3.0, 100, 30) == (0, 0)
    assert plot.cell_of(3.0, -3.0, 100, 30) == (29, 99)
    assert plot.cell_of(10.0, 0.0, 100, 30) is None
    assert plot.cell_of(float("nan"), 0.0, 100, 30) is None


async def test_grid_view_has_a_cell_per_racer_in_the_exercise_layout() -> None:
    app = app_for("iris_grid", epochs=4)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await caught_up(pilot)
        assert isinstance(app.screen, GridScreen)
        cells = list(app.screen.query(".grid-cell"))
        assert len(cells) == 24
        first = str(app.screen.query_one("#cell-0-0", Static).render())
        assert "train" in first and any(block in first for block in "▁▂▃▄▅▆▇█")
        heads = " ".join(str(w.render()) for w in app.screen.query(".grid-head"))
        assert "lr 0.1" in heads and "nadam" in heads
        title = str(app.screen.query_one("#grid-title", Static).render())
        assert "training loss on one log scale" in title
        await pilot.press("ctrl+e")  # a grid race offers its grid table among the exports
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and app.screen.query("#kind-grid")


async def test_a_racer_without_a_cell_does_not_stop_the_grid_drawing_the_others() -> None:
    import dataclasses

    app = app_for("iris_grid", epochs=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await caught_up(pilot)
        screen = app.screen
        assert isinstance(screen, GridScreen)
        first = next(iter(app.model.specs.values()))
        stray = dataclasses.replace(first, id=-1, grid_position=(99, 99))
        app.model.specs = {-1: stray, **app.model.specs}
        for cell in screen.query(".grid-cell"):
            cell.update("")
        screen.draw(app.model)
        await pilot.pause()
        assert "train" in str(screen.query_one("#cell-0-0", Static).render())


async def test_leaderboard_ranks_every_racer() -> None:
    app = app_for("quickstart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await caught_up(pilot)
        assert isinstance(app.screen, LeaderboardScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(app.model.specs)
        assert str(table.get_cell_at((0, 0))) == "1"


async def test_detail_view_shows_layers_and_hyperparameters() -> None:
    app = app_for("quickstart")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await caught_up(pilot)
        assert isinstance(app.screen, DetailScreen)
        layers = app.screen.query_one("#layers", DataTable)
        assert layers.row_count == 3  # 2-16-16-1
        hparams = str(app.screen.query_one("#detail-hparams", Static).render())
        assert "lr=" in hparams
        title = str(app.screen.query_one("#detail-title", Static).render())
        spec = app.model.specs[app.selected_racer]  # type: ignore[index]
        assert spec.name in title


async def test_the_detail_sharpness_panel_is_measured_against_the_limit_or_says_why_not() -> None:
    """SGD: bars under the 2/lr line and the numbers; Adam has no fixed limit, so its
    sharpness is not estimated, and the panel says so rather than showing a bare dash."""
    app = app_for("quickstart", epochs=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = {spec.name: rid for rid, spec in app.model.specs.items()}
        table = app.screen.query_one(ParamTable)
        table.select_racer(names["SGD"])
        await pilot.press("enter")
        await caught_up(pilot)
        panel = app.screen.query_one("#spark-sharpness", Static)
        text = str(panel.render())
        assert re.search(r"now [\d.]+ < limit 40$", text), text
        assert "╌" in text and any(block in text for block in "▁▂▃▄▅▆▇█")
        await pilot.press("escape")
        table.select_racer(names["Adam"])
        await pilot.press("enter")
        await caught_up(pilot)
        text = str(app.screen.query_one("#spark-sharpness", Static).render())
        assert text == "no fixed limit for this optimizer: not estimated"


async def test_the_leaderboard_scrolls_to_its_last_rows_and_stays_there_on_redraw() -> None:
    """At 80x24 a 24-racer board shows 19 rows: the keys reach the rest (the stalled and
    diverged come last), and a live update does not throw the reader back to the top."""
    app = app_for("iris_grid", epochs=4)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await caught_up(pilot)
        assert isinstance(app.screen, LeaderboardScreen)
        board = app.screen.query_one("#board", DataTable)
        assert board.has_focus
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert board.scroll_y > 0 and board.cursor_row > 18
        where = (board.scroll_y, board.cursor_row)
        app.screen.redraw(force=True)
        await pilot.pause()
        assert (board.scroll_y, board.cursor_row) == where
