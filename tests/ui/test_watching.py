"""Pilot tests of watching a race: selection, pace, confirmations, replay and the inspector."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
from recorded_races import recorded
from textual.widgets import Static

from tui_optim.race.messages import AddRacer, HistoryChunk
from tui_optim.ui.app import (
    TuiOptimApp,
    changes_since_start,
    default_pace,
    next_pace,
    paced_by_the_engine,
)
from tui_optim.ui.screens.export import ConfirmScreen, ExportScreen
from tui_optim.ui.screens.race import RaceScreen
from tui_optim.ui.testing import caught_up, settle, short_scenario, wait_until
from tui_optim.ui.widgets.param_table import ParamTable
from tui_optim.ui.widgets.race_header import RaceHeader

SIZE = (120, 40)


def quick_app(name: str = "quickstart", epochs: int = 3, **options: object) -> TuiOptimApp:
    return TuiOptimApp(short_scenario(name, epochs=epochs), test_mode=True, **options)


async def test_two_selections_in_flight_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two table highlights queued together used to bounce the cursor between them forever
    (the app at 100% CPU after the race finished)."""
    calls: list[int] = []
    original = RaceScreen.on_racer_selected

    def counting(self: RaceScreen, message: object) -> None:
        calls.append(1)
        original(self, message)  # type: ignore[arg-type]

    monkeypatch.setattr(RaceScreen, "on_racer_selected", counting)
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ParamTable)
        table.move_cursor(row=1)
        table.move_cursor(row=2)
        await pilot.pause(0.5)
        calls.clear()
        await pilot.pause(0.5)
        assert calls == []
        assert app.selected_racer == table.selected_racer


# ---------------------------------------------------------------------------- pace
def test_default_pace_lets_a_surface_race_be_watched() -> None:
    from tui_optim.scenario import load_scenario

    assert default_pace(load_scenario("peaks_zoo")) == 2.0  # 10 steps: 5 s
    assert default_pace(load_scenario("rosenbrock")) == 100.0  # 2000 steps: 20 s
    paced = dataclasses.replace(load_scenario("quickstart"), pace=20.0)
    assert default_pace(paced) == 20.0
    assert default_pace(dataclasses.replace(paced, pace=math.inf)) is None


def test_default_pace_makes_a_network_race_last_about_half_a_minute() -> None:
    from tui_optim.race.race import Race
    from tui_optim.scenario import load_scenario

    quickstart = load_scenario("quickstart")
    assert paced_by_the_engine(quickstart) and not paced_by_the_engine(load_scenario("saddle"))
    assert default_pace(quickstart) is None  # the planned steps come with the engine's start
    assert default_pace(quickstart, Race(quickstart).started()) == 500.0  # 15000 steps: 30 s
    iris = load_scenario("iris_grid")
    assert default_pace(iris, Race(iris).started()) == 50.0  # 1600 steps: 32 s


async def test_a_network_race_starts_at_its_watch_pace_and_the_header_says_so() -> None:
    app = TuiOptimApp(short_scenario("quickstart", epochs=30), test_mode=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 0, what="the race")
        header = app.screen.query_one(RaceHeader)
        assert app.pace == 10.0  # 300 steps in 30 s
        await wait_until(pilot, lambda: "pace 10 st/s" in header_text(header), what="shown")
        start, first = time.monotonic(), app.model.step
        await pilot.pause(1.0)
        steps, elapsed = app.model.step - first, time.monotonic() - start
        # held to 10 steps/s; the steps seen lag the engine's by up to a snapshot period
        # (and a loaded machine delivers snapshots late), hence the slack
        assert steps <= 10 * elapsed + 6 and app.model.step < 300
        await pilot.press("greater_than_sign")
        assert app.pace == 20.0
        await wait_until(pilot, lambda: "pace 20 st/s" in header_text(header), what="faster")


def test_pace_presets_step_both_ways() -> None:
    assert next_pace(None, faster=True) is None
    assert next_pace(None, faster=False) == 1000.0
    assert next_pace(2.0, faster=True) == 5.0
    assert next_pace(1.0, faster=False) == 1.0
    assert next_pace(3.0, faster=False) == 2.0  # a scenario's own pace: to the nearest


async def test_pace_keys_hold_the_race_and_show_in_the_header() -> None:
    from tui_optim.scenario import load_scenario

    scenario = dataclasses.replace(load_scenario("peaks_zoo"), steps=400)
    app = TuiOptimApp(scenario, test_mode=True, pace=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 0, what="the race")
        start_step, started = app.model.step, time.monotonic()
        await pilot.pause(1.0)
        # 2 steps/s; a loaded machine stretches the pause, so the bound follows the clock
        assert app.model.step - start_step <= 2 + 2 * (time.monotonic() - started)
        header = app.screen.query_one(RaceHeader)
        assert "pace 2 st/s" in header_text(header)
        await pilot.press("greater_than_sign")
        assert app.pace == 5.0 and "pace 5 st/s" in header_text(header)
        await pilot.press("comma", "comma", "comma")
        assert app.pace == 1.0
        for _ in range(7):
            await pilot.press("full_stop")
        assert app.pace is None and "pace max" in header_text(header)
        await settle(pilot)
        assert app.model.step == 400


async def test_paused_start_waits_for_space() -> None:
    app = TuiOptimApp(short_scenario("peaks_zoo"), test_mode=True, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 0, what="the race")
        await pilot.pause(0.5)
        assert app.model.state == "paused" and app.model.step == 0
        assert "⏸ paused" in header_text(app.screen.query_one(RaceHeader))
        await pilot.press("space")
        await settle(pilot)
        assert app.model.state == "finished" and app.model.step == 10


async def test_header_is_one_line_at_any_width() -> None:
    app = quick_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(RaceHeader)
        for width in (160, 80, 60):
            await pilot.resize_terminal(width, 24)
            await wait_until(pilot, lambda w=width: header.outer_size.width == w, what="resized")
            await pilot.pause()
            text = header_text(header)
            assert "\n" not in text and len(text) <= width
            assert "step" in text and "finished" in text
            assert "pace max" in text or width < 80


def header_text(header: RaceHeader) -> str:
    return str(header.render()).rstrip()


def test_command_line_paused_option() -> None:
    from tui_optim.cli import build_parser

    assert build_parser().parse_args(["peaks_zoo", "--paused"]).paused is True
    assert build_parser().parse_args([]).paused is False


# ---------------------------------------------------------------------------- confirmations
async def test_remove_asks_first_and_u_brings_the_racer_back() -> None:
    app = quick_app(epochs=400, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.selected_racer is not None, what="a racer")
        victim = app.selected_racer
        for _ in range(3):  # three epochs, each ending paused: a history to bring back
            before = app.model.step
            await pilot.press("n")
            await wait_until(
                pilot,
                lambda b=before: app.model.step > b and app.model.state == "paused",
                what="an epoch",
            )
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        assert "Remove" in str(app.screen.query_one("#dialog-title", Static).render())
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), what="answered")
        assert victim in app.model.specs
        assert not footer_has(app, "Undo remove")  # nothing to undo yet
        history = len(app.model.histories[victim].arrays()["step"])
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: victim not in app.model.specs, what="removed")
        await wait_until(pilot, lambda: footer_has(app, "Undo remove"), what="u in the footer")
        await pilot.press("u")
        await wait_until(pilot, lambda: victim in app.model.specs, what="brought back")
        assert history > 0 and app.model.stats[victim].step > 0
        assert len(app.model.histories[victim].arrays()["step"]) == history  # its past too
        await wait_until(pilot, lambda: not footer_has(app, "Undo remove"), what="u gone")


def footer_has(app: TuiOptimApp, description: str) -> bool:
    from textual.widgets._footer import FooterKey

    return any(key.description == description for key in app.screen.query(FooterKey))


async def test_restart_asks_before_dropping_an_added_racer() -> None:
    app = quick_app(epochs=400, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 0, what="the race")
        app.send_command(AddRacer("adam", {"lr": 0.01}, name="mine"))
        await wait_until(pilot, lambda: len(app.model.specs) == 7, what="added")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        question = str(app.screen.query_one("#dialog-title", Static).render())
        assert "1 added or forked racer" in question
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, RaceScreen), what="answered")
        assert len(app.model.specs) == 7
        await pilot.press("R", "y")
        await wait_until(pilot, lambda: len(app.model.specs) == 6, what="restarted")


async def test_restart_without_changes_does_not_ask() -> None:
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.model.started
        await pilot.press("r")
        await wait_until(pilot, lambda: app.model.started is not first, what="restarted")
        assert isinstance(app.screen, RaceScreen)


def test_changes_since_start_names_edits() -> None:
    from tui_optim.race.messages import RacersChanged
    from tui_optim.race.race import Race
    from tui_optim.ui.state import RaceModel

    race = Race(short_scenario("peaks_zoo"))
    model = RaceModel()
    model.apply(race.started())
    assert changes_since_start(model) == ""
    first = race.specs()[0]
    edited = dataclasses.replace(first, hparams={**first.hparams, "lr": 0.5})
    model.apply(RacersChanged((edited, *race.specs()[1:])))
    assert changes_since_start(model) == "the live edits of 1 racer"


# ---------------------------------------------------------------------------- export, shots
async def test_enter_in_the_export_list_exports_and_screenshot_names_are_plain_slugs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen), what="dialog")
        app.screen.query_one("#kind").focus()
        await pilot.press("down", "enter")  # the second format: CSV
        await wait_until(pilot, lambda: (tmp_path / "quickstart.csv").exists(), what="csv")
        assert isinstance(app.screen, RaceScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    names = sorted(path.name for path in tmp_path.glob("*.svg"))
    assert len(names) == 2
    assert all(re.fullmatch(r"tui-optim-quickstart-\d{8}-\d{6}(-2)?\.svg", n) for n in names)


# ---------------------------------------------------------------------------- consistency
async def test_cards_and_table_show_the_paused_figures_at_once() -> None:
    from tui_optim.ui import format as fmt
    from tui_optim.ui.widgets.racer_card import RacerCard

    app = TuiOptimApp(short_scenario("quickstart", epochs=1500), test_mode=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: app.model.snapshot_count > 5, what="running")
        await pilot.press("space")
        await wait_until(pilot, lambda: app.model.state == "paused", what="paused")
        await pilot.pause(0.15)  # well inside the throttles' periods
        table = app.screen.query_one(ParamTable)
        for card in app.screen.query(RacerCard):
            loss = fmt.num(app.model.stats[card.spec.id].loss)
            assert loss in str(card.query_one(".card-figures", Static).render())
            assert str(table.get_cell(str(card.spec.id), "loss").text).strip() == loss


# ---------------------------------------------------------------------------- surface view
def screen_text(app: TuiOptimApp) -> str:
    from textual.widgets import Static as StaticWidget

    return "\n".join(str(w.render()) for w in app.screen.query(StaticWidget))


async def test_surface_paths_have_glyphs_the_view_fits_zoom_centres_and_the_inspector() -> None:
    from tui_optim.ui.format import GLYPHS
    from tui_optim.ui.screens.surface import SurfacePlot, SurfaceScreen, racer_path

    app = quick_app("peaks_zoo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await caught_up(pilot)
        screen = app.screen
        assert isinstance(screen, SurfaceScreen)
        plot = screen.query_one(SurfacePlot)
        drawn = str(plot.render())
        count = len(app.model.specs)
        legend = str(screen.query_one("#surface-legend", Static).render())
        assert all(glyph in legend for glyph in GLYPHS[:count])
        # Adam and AMSGrad take the same path here: one covers the other, the rest show
        assert sum(glyph in drawn for glyph in GLYPHS[:count]) >= count - 1
        points = np.vstack([racer_path(app.model, rid) for rid in app.model.specs])
        x0, x1, y0, y1 = plot.view
        assert (points[:, 0] >= x0).all() and (points[:, 0] <= x1).all()
        assert (points[:, 1] >= y0).all() and (points[:, 1] <= y1).all()
        bx0, bx1, _, _ = plot.surface.bounds
        assert x1 - x0 < (bx1 - bx0) / 2  # fitted, not the whole surface
        assert "known minimum" in screen_text(app)
        await pilot.press("0")
        assert plot.view == tuple(plot.surface.bounds)
        here = racer_path(app.model, app.selected_racer)[-1]
        await pilot.press("plus")
        x0, x1, y0, y1 = plot.view
        assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(tuple(here))
        await pilot.press("z")
        await caught_up(pilot)
        assert plot.fitting and plot.view[1] - plot.view[0] < (bx1 - bx0) / 2
        # the step inspector: the selected racer's step, then the next racers'
        await pilot.press("i")
        await caught_up(pilot)
        text = screen_text(app)
        assert "step 10 → 11" in text and "∇f" in text and "eff. lr" in text
        await pilot.press("right_square_bracket", "right_square_bracket")  # SGD -> RMSprop
        await caught_up(pilot)
        assert app.model.specs[app.selected_racer].name == "RMSprop"
        text = screen_text(app)
        assert "step 10 → 11 RMSprop" in text and "eff. lr" in text


async def test_saddle_shows_no_known_minimum() -> None:
    app = quick_app("saddle")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await caught_up(pilot)
        assert "known minimum" not in screen_text(app)


def test_without_colour_the_heatmap_is_drawn_in_shades() -> None:
    from tui_optim.ui.screens.surface import SHADES, shades

    ramp = np.linspace(0, 255, 40).astype(np.uint8)  # dark to bright, left to right
    rgb = np.repeat(np.repeat(ramp[None, :, None], 3, axis=2), 6, axis=0)  # 3 cell rows
    rows = shades(rgb)
    assert len(rows) == 3 and all(len(row) == 40 for row in rows)
    assert rows[0][0] == SHADES[0] and rows[0][-1] == SHADES[-1]
    assert set(rows[0]) == set(SHADES) and list(rows[0]) == sorted(rows[0], key=SHADES.index)


def test_marks_get_a_contrasting_backing() -> None:
    from tui_optim.ui.screens.surface import backing

    assert backing("#edc948") == "#101010"  # yellow on the yellow band: on black
    assert backing("#1f3b73") == "#f0f0f0"  # dark blue on the blue basin: on white


# ---------------------------------------------------------------------------- replay
def exported(tmp_path: Path, name: str = "peaks_zoo", epochs: int | None = None) -> Path:
    from tui_optim.race.race import Race
    from tui_optim.results.export import write_json

    race = Race(short_scenario(name, epochs=epochs))
    record = recorded(race, 0.05)
    path = tmp_path / f"{name}.json"
    write_json(record, path)
    return path


async def test_replay_scrubs_every_view(tmp_path: Path) -> None:
    from tui_optim.ui.screens.surface import SurfaceScreen, racer_path

    app = TuiOptimApp(replay=exported(tmp_path), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        header = app.screen.query_one(RaceHeader)
        await wait_until(pilot, lambda: "replay 10/10" in header_text(header), what="shown")
        await pilot.press("left", "left", "left")
        await wait_until(pilot, lambda: "replay 7/10" in header_text(header), what="scrubbed")
        assert app.model.step == 7
        rid = app.selected_racer
        assert len(racer_path(app.model, rid)) == 8  # the start and 7 steps
        loss = app.model.histories[rid].arrays()["loss"][-1]
        assert app.model.stats[rid].loss == loss
        await pilot.press("home")
        assert app.model.step == 0
        await pilot.press("shift+right")
        assert app.model.step == 10
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, SurfaceScreen), what="surface")
        await pilot.press("shift+left", "right")
        assert len(racer_path(app.model, rid)) == 2
        await pilot.press("space")  # nothing runs in a replay: a note, no engine
        assert app.process is None


async def test_replay_shows_the_grid_and_the_last_layer_figures(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from tui_optim.ui.screens.detail import DetailScreen
    from tui_optim.ui.screens.grid import GridScreen

    app = TuiOptimApp(replay=exported(tmp_path, "iris_grid_20", epochs=3), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await caught_up(pilot)
        await pilot.press("g")
        await caught_up(pilot)
        assert isinstance(app.screen, GridScreen)
        cell = str(app.screen.query_one("#cell-0-0", Static).render())
        assert "train" in cell and "rows: optimizer" in screen_text(app)
        await pilot.press("escape", "enter")
        await caught_up(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.query_one("#layers", DataTable).row_count > 0
        assert not app.screen.query_one("#layers-note").display
        await pilot.press("left")
        await caught_up(pilot)
        assert app.screen.query_one("#layers", DataTable).row_count == 0
        note = str(app.screen.query_one("#layers-note", Static).render())
        assert "kept for the last step only" in note


async def test_a_paused_live_race_scrubs_back_and_returns() -> None:
    app = quick_app(epochs=5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        last = app.record.step
        await pilot.press("left")  # the focused table keeps its arrows
        assert app.scrub_step is None
        app.screen.query_one("#events").focus()
        await pilot.press("left")
        await caught_up(pilot)
        assert app.scrub_step is not None and app.model.step < last
        assert "replay" in header_text(app.screen.query_one(RaceHeader))
        await pilot.press("end")
        assert app.scrub_step is None and app.model is app.record


def test_replay_command_rejects_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui_optim.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    assert main(["replay", str(bad)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


# ---------------------------------------------------------------------------- any terminal
def test_help_renders_optimizer_docs_as_plain_text_within_80_columns() -> None:
    from tui_optim.engine.optimizers import OPTIMIZERS, update_rule
    from tui_optim.ui.screens.help import plain_doc

    for name in OPTIMIZERS:
        text = plain_doc(str(update_rule(name)))
        assert "``" not in text and "```" not in text and "::" not in text, name
        assert "tests/" not in text and "test_" not in text, name
        assert max(len(line) for line in text.splitlines()) <= 76, name


def card_spark_of(loss: np.ndarray) -> list[float]:
    """The card sparkline's data for a racer whose history is ``loss`` (4000 points)."""
    from tui_optim.race.race import Race
    from tui_optim.ui.state import RaceModel
    from tui_optim.ui.widgets.racer_card import loss_spark_data

    model = RaceModel()
    model.apply(Race(short_scenario("peaks_zoo")).started())
    rid = model.racer_ids()[0]
    for start in range(0, 4000, 500):
        part = slice(start, start + 500)
        steps = np.arange(start, start + 500, dtype=float)
        nan = np.full(500, np.nan)
        model.histories[rid].extend(
            HistoryChunk(
                step=steps,
                epoch=steps,
                seconds=steps,
                loss=loss[part],
                batch_loss=nan,
                val_loss=nan,
                accuracy=nan,
                val_accuracy=nan,
                grad_norm=nan,
                update_ratio=nan,
                sharpness=nan,
                grad_evals=steps,
                position=np.zeros((500, 2)),
            )
        )
    return loss_spark_data(model, rid)


def test_card_sparkline_shows_the_whole_descent_on_a_log_scale() -> None:
    from tui_optim.ui.widgets.racer_card import SPARK_POINTS

    spark = card_spark_of(10.0 ** -np.linspace(0, 4, 4000))  # four decades
    assert len(spark) == SPARK_POINTS
    assert spark[0] > -0.1 and spark[-1] < -3.9  # the start and the end, in decades


def test_card_sparkline_of_f_below_zero_is_linear_and_shows_the_fall() -> None:
    """f that falls through zero (saddle, peaks): every point drawn, on a linear scale; a
    log scale kept only the positive start and drew the fall as a rise."""
    spark = card_spark_of(np.linspace(100.0, -1e3, 4000))
    assert spark[0] > 0.0 and spark[-1] < -990.0
    assert all(a >= b for a, b in itertools.pairwise(spark))


async def test_at_80x24_tab_brings_every_panel_and_the_log_shows_status_and_reason() -> None:
    from tui_optim.ui.widgets.event_log import EventLog

    app = quick_app(epochs=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen_region = app.screen.region
        for key, panel in (("tab", "#events"), ("shift+tab", "#table"), ("tab", "#events")):
            await pilot.press(key)
            widget = app.screen.query_one(panel)
            await wait_until(pilot, lambda w=widget: app.focused is w, what=f"{panel} focused")
            await pilot.pause()
            region = widget.region
            assert region.height > 2 and screen_region.contains_region(region), panel
        log = app.screen.query_one(EventLog)
        assert app.model.events
        lines = [strip.text for strip in log.lines]
        text = " ".join(line.strip() for line in lines)
        event = app.model.events[-1]
        assert event.status in text
        assert " ".join(event.reason.split()[:3]) in text
        width = log.scrollable_content_region.width
        assert all(strip.cell_length <= width for strip in log.lines)  # nothing cut off


def test_chart_labels_never_share_a_row() -> None:
    from tui_optim.ui.chart_build import spread_labels

    ends = [0.0101, 0.0102, 0.0103, 1.0, 0.5]
    spread = spread_labels(ends, 0.01, 1.0, 10, log=True)
    rows = [round((math.log10(v) + 2) / 2 * 9) for v in spread if v is not None]
    assert len(rows) == len(ends)
    assert len(set(rows)) == len(rows)
    assert spread[3] == 1.0  # a label alone on its row stays where its line ends
    crowded = spread_labels([0.5, 0.5, 0.5], 0.0, 1.0, 2, log=False)
    assert sorted(v is None for v in crowded) == [False, False, True]  # no row: no label


def test_racer_colours_keep_their_contrast_on_the_light_theme() -> None:
    from tui_optim.race.race import PALETTE
    from tui_optim.ui.format import MIN_CONTRAST, contrast, readable

    for background in ("#ffffff", "#e0e0e0", "#121212"):
        for colour in PALETTE:
            assert contrast(readable(colour, background), background) >= MIN_CONTRAST
    assert readable("#4e79a7", "#ffffff") == "#4e79a7"  # enough already: unchanged


async def test_theme_toggle_recolours_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_optim.ui.format import MIN_CONTRAST, contrast
    from tui_optim.ui.widgets.racer_card import RacerCard

    app = quick_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await caught_up(pilot)
        background = app.theme_variables["background"]
        for card in app.screen.query(RacerCard):
            border = card.styles.border_top[1].hex
            assert contrast(border, background) >= MIN_CONTRAST - 0.05, card.spec.name


async def test_no_color_draws_each_line_with_its_glyph(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_optim.ui.format import GLYPHS
    from tui_optim.ui.widgets.loss_chart import LossChart

    monkeypatch.setenv("NO_COLOR", "1")
    app = quick_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        chart = str(app.screen.query_one(LossChart).render())
        assert sum(glyph in chart for glyph in GLYPHS[:6]) >= 5


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        # no target: no time-to-target column that could only say "-"
        ("iris_grid_20", ["#", "racer", "", "train loss", "val loss", "val acc"]),
        ("quickstart", ["#", "racer", "", "to target", "train loss", "val loss", "val acc"]),
        # a surface: f, and nothing that has no meaning there
        ("beale", ["#", "racer", "", "f"]),
    ],
)
async def test_leaderboard_fits_80_columns_and_shows_what_the_race_measures(
    scenario: str, expected: list[str]
) -> None:
    from textual.widgets import DataTable

    app = quick_app(scenario)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await caught_up(pilot)
        board = app.screen.query_one("#board", DataTable)
        assert board.virtual_size.width <= 80
        assert [str(column.label) for column in board.columns.values()] == expected


@pytest.mark.parametrize(
    ("scenario", "acc", "target"),
    [
        ("quickstart", "val acc", True),  # a validation split and a target
        ("scratch_adam", "train acc", False),  # classification, no split: training accuracy
        ("chaotic_series", None, False),  # a regression: no accuracy at all
        ("beale", None, False),  # a surface: f, no accuracy
    ],
)
async def test_the_parameter_table_shows_only_columns_that_mean_something(
    scenario: str, acc: str | None, target: bool
) -> None:
    app = quick_app(scenario)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ParamTable)
        labels = {str(column.key.value): str(column.label) for column in table.columns.values()}
        assert labels.get("acc") == acc
        assert ("target" in labels) == target
        assert labels["loss"] == ("f" if scenario == "beale" else "train loss")
        for racer in app.model.specs:  # every row has a cell in every column shown
            assert len(table.get_row(str(racer))) == len(labels)


async def test_the_accuracy_column_is_named_for_the_split_before_the_first_figures() -> None:
    # paused at step 0: no racer has reported a validation loss yet, the engine's
    # RaceStarted already says there is a split (the header read "train acc", then flipped)
    app = quick_app("iris_grid_20", paused=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_until(pilot, lambda: app.model.started is not None, what="the race")
        await pilot.pause()
        table = app.screen.query_one(ParamTable)
        assert all(s.val_loss is None for s in app.model.stats.values())
        assert table.labels.get("acc") == "val acc"
