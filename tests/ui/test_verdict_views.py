"""What the views say about a racer's loss: the scenario's notes at the start, and on a
surface race the function value f (never "train") on every view."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tui_optim.ui.app import NOTES_TITLE, TuiOptimApp
from tui_optim.ui.testing import settle, short_scenario, wait_until
from tui_optim.ui.widgets.loss_chart import LossChart
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.racer_card import RacerCard

SIZE = (120, 40)


async def test_the_notes_show_when_the_race_starts_and_again_on_w() -> None:
    app = TuiOptimApp(short_scenario("quickstart", epochs=3), test_mode=True)
    app.notes_at_start = True  # off in test mode, where snapshots must not catch a toast
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.started is not None, what="the race start")
        await pilot.pause(0.1)
        assert app.model.started is not None
        notes = app.model.started.notes
        shown = [n for n in app._notifications if n.title == NOTES_TITLE]  # type: ignore[attr-defined]
        assert notes and len(shown) == 1
        assert shown[0].message.startswith(" ".join(notes.split()[:8]))
        assert "\n" not in shown[0].message.removesuffix("\n(w shows this again)")
        assert shown[0].timeout >= 5
        await settle(pilot)

        def notes_shown() -> int:
            notifications = app._notifications  # type: ignore[attr-defined]
            return sum(1 for n in notifications if n.title == NOTES_TITLE)

        await pilot.press("w")  # showing: w hides them (a second copy stacked on top)
        await pilot.pause(0.1)
        assert notes_shown() == 0
        await pilot.press("w")
        await pilot.pause(0.1)
        assert notes_shown() == 1


def static_text(widget: Static) -> str:
    return str(widget.render())


async def test_a_surface_race_says_f_on_every_view() -> None:
    app = TuiOptimApp(short_scenario("rosenbrock", steps=50), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cards = list(app.screen.query(RacerCard))
        figures = [static_text(card.query_one(".card-figures", Static)) for card in cards]
        assert cards and all(text.startswith("f ") for text in figures), figures
        table = app.screen.query_one(ParamTable)
        labels = [str(column.label) for column in table.columns.values()]
        assert "f" in labels and "best f" in labels, labels
        assert not any("train" in label for label in labels), labels
        chart = app.screen.query_one(LossChart)
        assert "train" not in str(chart.border_title) and str(chart.border_title).startswith("f")
        assert chart._plan().title.startswith("f "), chart._plan().title
        await pilot.press("b")  # leaderboard
        await pilot.pause(0.2)
        board = app.screen.query_one("#board", DataTable)
        headers = [str(column.label) for column in board.columns.values()]
        title = static_text(app.screen.query_one("#board-title", Static))
        assert "f" in headers and not any("train" in h for h in headers), headers
        assert "training" not in title and "ranked by" in title, title
        await pilot.press("escape")
        await pilot.pause(0.1)
        await pilot.press("enter")  # the selected racer's detail
        await pilot.pause(0.2)
        detail = static_text(app.screen.query_one("#detail-title", Static))
        assert " f " in detail and "train" not in detail and "batch loss" not in detail, detail


async def test_an_mlp_race_says_train() -> None:
    app = TuiOptimApp(short_scenario("quickstart", epochs=3), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen.query(RacerCard).first()
        assert static_text(card.query_one(".card-figures", Static)).startswith("train ")
        labels = [str(column.label) for column in app.screen.query_one(ParamTable).columns.values()]
        assert "train loss" in labels
