"""The race's command table: every wire command has a handler, and what cannot be carried
out is answered with one CommandRejected line while the race goes on."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np

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


def test_a_removed_racer_comes_back_as_it_was() -> None:
    race = peaks_race()
    race.advance(0.05)
    race.handle(wire.Pause())
    racer = race.racers[next(iter(race.racers))]
    params, steps = race.current_params(racer).copy(), racer.steps
    state = race.group_of(racer).saved_state(racer)
    race.handle(wire.RemoveRacer(racer.id))
    assert racer.id not in race.racers
    (answer,) = race.handle(wire.RestoreRacer())
    assert isinstance(answer, wire.RacersChanged) and racer.id in {s.id for s in answer.racers}
    back = race.racers[racer.id]
    assert back.steps == steps and (race.current_params(back) == params).all()
    again = race.group_of(back).saved_state(back)
    np.testing.assert_equal(again, state)  # weights, optimizer state, loss sums, counters
    (answer,) = race.handle(wire.RestoreRacer())  # nothing left to bring back
    assert isinstance(answer, wire.CommandRejected) and "no removed racer" in answer.message


def test_an_edit_after_the_race_finished_is_refused_and_changes_nothing() -> None:
    """A racer edited once the race is over would take no step at the new value and never
    be judged again: a finished race showed it as running for good."""
    race = peaks_race()
    while race.state != "finished":
        race.advance(1.0)
    racer = next(iter(race.racers.values()))
    status, lr = racer.status, racer.hparams["lr"]
    (answer,) = race.handle(wire.SetHparam(racer.id, "lr", 0.05))
    assert isinstance(answer, wire.CommandRejected)
    assert answer.message == "the race has finished; restart it to try another value"
    assert (racer.status, racer.hparams["lr"]) == (status, lr)
