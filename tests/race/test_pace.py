"""The race's pace: at most N steps per second of race time, set live; start paused."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest

from tui_optim.race.messages import Pause, RaceStarted, Resume, SetPace, Snapshot
from tui_optim.race.pace import pace_lasting, round_pace
from tui_optim.race.process import RaceProcess
from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario


def peaks(steps: int = 400) -> object:
    return dataclasses.replace(load_scenario("peaks_zoo"), steps=steps)


def run_for(race: Race, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and race.state == "running":
        race.advance(0.01)
        time.sleep(min(0.01, race.wait_seconds()))


def test_pace_caps_the_steps_per_second() -> None:
    race = Race(peaks(), pace=20.0)
    started = race.clock()
    run_for(race, 0.5)
    elapsed = race.clock() - started
    assert 1 <= race.progress_step() <= 20.0 * elapsed + 1
    race.advance(0.01)  # caught up with the pace: the next step is not due yet
    assert 0.0 < race.wait_seconds() <= 1 / 20 + 1e-6


def test_set_pace_none_runs_at_full_speed() -> None:
    race = Race(peaks(), pace=2.0)
    race.handle(SetPace(None))
    end = time.perf_counter() + 20  # a loaded machine may need more than one slice
    while race.state == "running" and time.perf_counter() < end:
        race.advance(0.2)
        assert race.wait_seconds() == 0.0  # never held back
    assert race.state == "finished" and race.progress_step() == 400
    assert race.wait_seconds() == 0.0


def test_pace_rejects_non_positive_values() -> None:
    race = Race(peaks())
    [reply] = race.handle(SetPace(0.0))
    assert "pace must be a positive number" in reply.message


def test_paused_start_and_pauses_do_not_count_as_pace_time() -> None:
    race = Race(peaks(), pace=10.0, paused=True)
    assert race.state == "paused"
    race.advance(0.1)
    assert race.progress_step() == 0
    time.sleep(0.3)  # paused: this time allows no steps
    race.handle(Resume())
    race.advance(0.05)
    assert race.progress_step() <= 1
    race.handle(Pause())
    assert race.wait_seconds() == 0.0


def test_mlp_race_at_a_pace_keeps_groups_aligned() -> None:
    scenario = dataclasses.replace(load_scenario("batch_modes"), epochs=3)
    race = Race(scenario, pace=50.0)
    run_for(race, 0.3)
    progress = [g.progress for g in race.groups.values()]
    spe = race.primary.steps_per_epoch
    assert race.progress_step() <= 50 * race.clock() + 1
    assert max(progress) - min(progress) <= 1.0 + 1.0 / spe


def test_engine_process_starts_at_the_given_pace() -> None:
    process = RaceProcess(peaks(), pace=5.0)
    process.start()
    try:
        steps: list[int] = []
        # The clock starts at the first snapshot: a loaded machine may take seconds to
        # start the child, and the pace is about the race, not the start-up.
        deadline = time.monotonic() + 30
        while not steps and time.monotonic() < deadline:
            steps += [m.step for m in process.poll(0.05) if isinstance(m, Snapshot)]
        assert steps, "no snapshot in 30 s"
        first = time.monotonic()
        while time.monotonic() < first + 1.2:
            steps += [m.step for m in process.poll(0.05) if isinstance(m, Snapshot)]
        elapsed = time.monotonic() - first
        assert 1 <= steps[-1] <= 2 + 5 * elapsed  # 5 steps/s, a step of slack each side
        # the trail comes step by step: no snapshot jumps more than one step at 5/s
        assert all(b - a <= 1 for a, b in itertools.pairwise(steps))
        process.send(SetPace(None))
        end = time.monotonic() + 5
        while time.monotonic() < end and (not steps or steps[-1] < 400):
            steps += [m.step for m in process.poll(0.05) if isinstance(m, Snapshot)]
        assert steps[-1] == 400
    finally:
        process.close()


@pytest.mark.parametrize("paused", [True, False])
def test_engine_process_can_start_paused(paused: bool) -> None:
    process = RaceProcess(peaks(10), paused=paused)
    process.start()
    try:
        states: list[str] = []
        end = time.monotonic() + 3
        while time.monotonic() < end and "finished" not in states and len(states) < 3:
            states += [m.state for m in process.poll(0.1) if isinstance(m, Snapshot)]
        assert states[0] == ("paused" if paused else "running") or states[-1] == "finished"
        if paused:
            assert "finished" not in states
    finally:
        process.close()


def test_round_paces_are_1_2_5_numbers_nearest_on_a_log_scale() -> None:
    assert [round_pace(v) for v in (0.3, 1.4, 1.7, 3.3, 7.5, 53.3, 333.0, 450.0)] == [
        1.0,
        1.0,
        2.0,
        5.0,
        10.0,
        50.0,
        500.0,
        500.0,
    ]


def test_engine_process_starts_at_the_pace_that_makes_the_race_last_the_given_time() -> None:
    scenario = dataclasses.replace(load_scenario("quickstart"), epochs=30)  # 300 steps
    process = RaceProcess(scenario, watch_seconds=30.0)
    process.start()
    try:
        started: list[RaceStarted] = []
        steps: list[int] = []
        end = time.monotonic() + 60  # the child loads its data first (slow when loaded)
        while not steps and time.monotonic() < end:
            for message in process.poll(0.05):
                if isinstance(message, RaceStarted):
                    started.append(message)
                elif isinstance(message, Snapshot):
                    steps.append(message.step)
        assert pace_lasting(started[0], 30.0) == 10.0
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            steps += [m.step for m in process.poll(0.05) if isinstance(m, Snapshot)]
        assert 1 <= steps[-1] <= 15  # 10 steps/s, not 300 steps in a second
    finally:
        process.close()


def test_a_racers_seconds_are_training_seconds_not_the_paced_wall_clock() -> None:
    # at 20 steps per second a 400-step surface race is mostly waiting: its racers'
    # seconds (time to target, history) count the training only; the speed a card shows
    # is the pace the racers are seen to go at
    race = Race(peaks(), pace=20.0)
    run_for(race, 0.5)
    racer = next(iter(race.racers.values()))
    assert racer.steps >= 5
    assert racer.seconds < 0.2 * race.clock()
    assert race.training_clock() < 0.2 * race.clock()
    shown = {s.id: s.steps_per_s for s in race.snapshot().racers}[racer.id]
    assert 0.5 * 20.0 <= shown <= 20.0 * 1.5
