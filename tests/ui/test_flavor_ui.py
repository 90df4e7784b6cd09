"""The app with keras-flavor racers: cards, table and detail name the flavor; the add-racer
form offers both flavors; edit and fork forms show the racer's own flavor's fields."""

from __future__ import annotations

from textual.widgets import Input, Select, Static

from tui_optim.race.messages import AddRacer, ForkRacer
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.add_racer import AddRacerScreen, HparamForm
from tui_optim.ui.screens.edit import EditScreen, ForkScreen
from tui_optim.ui.screens.help import HelpScreen
from tui_optim.ui.testing import settle, short_scenario, wait_until
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.racer_card import RacerCard

SIZE = (120, 40)


def zoo_app() -> TuiOptimApp:
    return TuiOptimApp(short_scenario("peaks_zoo", steps=10), test_mode=True)


async def open_form(pilot, key: str, kind: type[HparamForm]) -> HparamForm:
    await pilot.press(key)
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, kind) and pilot.app.screen.fields_optimizer,
        what=f"the {kind.__name__} fields",
    )
    return pilot.app.screen


async def test_cards_table_and_help_name_the_flavor() -> None:
    app = zoo_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cards = list(app.screen.query(RacerCard))
        assert cards
        first = str(cards[0].query_one(".card-hparams", Static).render())
        assert first.startswith("sgd (keras) lr=0.1")
        table = app.screen.query_one(ParamTable)
        hparams = table.get_column_index("hparams")
        assert str(table.get_row_at(0)[hparams].text).startswith("(keras) ")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        texts = [str(widget.render()) for widget in app.screen.query(Static)]
        assert any("keras flavor" in text for text in texts)
        assert any(text.startswith("muon (keras)") for text in texts)
        await pilot.press("escape", "q")


async def test_add_racer_offers_both_flavors_and_starts_in_the_scenarios() -> None:
    app = zoo_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.model.specs), what="racers")
        form = await open_form(pilot, "a", AddRacerScreen)
        assert isinstance(form, AddRacerScreen)
        chooser = form.query_one("#optimizer", Select)
        assert chooser.value == "adam (keras)"
        assert form.query_one("#hp-eps", Input).value == "1e-07"
        chooser.value = "rprop"
        await wait_until(pilot, lambda: form.fields_optimizer == "rprop", what="rprop fields")
        assert form.flavor == "torch"
        chooser.value = "ftrl (keras)"
        await wait_until(pilot, lambda: form.fields_optimizer == "ftrl", what="ftrl fields")
        result = form.result()
        assert isinstance(result, AddRacer)
        assert (result.optimizer, result.flavor) == ("ftrl", "keras")
        assert result.hparams["initial_accumulator_value"] == 0.1
        await pilot.press("escape", "q")


async def test_edit_and_fork_forms_show_the_racers_flavor() -> None:
    app = zoo_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ParamTable)
        rmsprop = next(rid for rid, spec in app.model.specs.items() if spec.name == "RMSprop")
        table.select_racer(rmsprop)
        await wait_until(pilot, lambda: app.selected_racer == rmsprop, what="RMSprop selected")
        for key, kind in (("e", EditScreen), ("f", ForkScreen)):
            form = await open_form(pilot, key, kind)
            assert form.flavor == "keras" and "(rmsprop (keras))" in form.title_text
            assert form.query_one("#hp-rho", Input).value == "0.9"  # torch would show alpha
            if kind is ForkScreen:
                form.query_one("#hp-rho", Input).value = "0.8"
                result = form.result()
                assert isinstance(result, ForkRacer) and result.changes == {"rho": 0.8}
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HparamForm), what="closed")
        await pilot.press("q")
