"""The race's command table: every wire command has a handler, and what cannot be carried
out is answered with one CommandRejected line while the race goes on."""

from __future__ import annotations

import dataclasses
import typing

from tui_optim.race import messages as wire
from tui_optim.race.commands import HANDLERS
from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario


def peaks_race() -> Race:
    return Race(dataclasses.replace(load_scenario("peaks_zoo"), steps=50))


def test_every_command_of_the_wire_has_a_handler() -> None:
    assert set(typing.get_args(wire.Command)) == set(HANDLERS)


def test_pause_and_resume_change_the_state_and_answer_nothing() -> None:
    race = peaks_race()
    assert race.handle(wire.Pause()) == [] and race.state == "paused"
    assert race.handle(wire.Resume()) == [] and race.state == "running"


def test_a_bad_value_or_a_missing_racer_is_one_rejection_and_the_race_goes_on() -> None:
    race = peaks_race()
    racer = next(iter(race.racers))
    lr_before = race.racers[racer].hparams["lr"]
    (answer,) = race.handle(wire.SetHparam(racer, "lr", -1.0))
    assert isinstance(answer, wire.CommandRejected) and answer.command == "SetHparam"
    assert "lr" in answer.message and race.racers[racer].hparams["lr"] == lr_before
    (answer,) = race.handle(wire.RemoveRacer(999_999))
    assert isinstance(answer, wire.CommandRejected) and answer.message == "no racer 999999"
    race.advance(0.05)
    assert race.progress_step() > 0


def test_an_object_that_is_no_command_is_rejected() -> None:
    (answer,) = peaks_race().handle(object())  # type: ignore[arg-type]  # what a bad peer sends
    assert isinstance(answer, wire.CommandRejected) and answer.command == "object"


def test_a_fork_continues_from_its_parents_point_and_counters() -> None:
    race = peaks_race()
    race.advance(0.05)
    race.handle(wire.Pause())
    parent = race.racers[next(iter(race.racers))]
    (answer,) = race.handle(wire.ForkRacer(parent.id, {"lr": 0.5}))
    assert isinstance(answer, wire.RacersChanged)
    child = next(r for r in race.racers.values() if r.spec.parent == parent.id)
    assert child.steps == parent.steps and child.hparams["lr"] == 0.5
    assert (race.current_params(child) == race.current_params(parent)).all()
