"""The engine child process(es): streaming, merging, commands, faults, no orphans."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from tui_optim.race.messages import (
    EngineFailed,
    Pause,
    RaceStarted,
    Restart,
    Resume,
    SaveWeights,
    Snapshot,
    WeightsSaved,
)
from tui_optim.race.process import RaceProcess
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario


def short(name: str, epochs: int = 3, repeats: int | None = None):
    """A built-in, shorter; ``repeats``: that many seeds (lockstep groups, which is what
    engine processes split a race by)."""
    scenario = load_scenario(name)
    if repeats is not None:
        scenario = dataclasses.replace(scenario, repeats=repeats)
    if scenario.epochs is not None:
        return dataclasses.replace(scenario, epochs=epochs)
    return scenario


def drive(
    process: RaceProcess, until, timeout: float = 60.0, record: RaceRecord | None = None
) -> RaceRecord:
    record = RaceRecord() if record is None else record
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in process.poll(0.05):
            record.apply(message)
        if until(record):
            return record
    raise TimeoutError("the engine did not get there in time")


def finished(record: RaceRecord) -> bool:
    return record.started is not None and record.state == "finished"


@pytest.fixture
def engine():
    processes: list[RaceProcess] = []

    def make(scenario, **kwargs) -> RaceProcess:
        process = RaceProcess(scenario, **kwargs)
        processes.append(process)
        process.start()
        return process

    yield make
    for process in processes:
        process.close()


def test_a_race_runs_to_the_end_in_a_child_and_leaves_nothing(engine) -> None:
    process = engine(short("quickstart"), snapshot_hz=20)
    (pid,) = process.pids
    record = drive(process, finished)
    assert record.started is not None and len(record.specs) >= 4
    assert all(len(h) >= 3 for h in record.histories.values())
    process.close()
    assert not psutil.pid_exists(pid)


def test_engine_processes_run_blas_on_one_thread(engine, monkeypatch) -> None:
    """Two engine processes on a 2-core machine must not each start a BLAS thread per core."""
    # the tests' own processes run one BLAS thread (tests/conftest.py): unset it here, so
    # the engine's setting is what the children get
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    process = engine(short("iris_grid", epochs=2, repeats=2), processes=2)
    # read once both children have raced: a child caught in its exec reads as no
    # environment at all
    drive(process, finished)
    for pid in process.pids:
        environment = psutil.Process(pid).environ()
        assert environment.get("OPENBLAS_NUM_THREADS") == "1"


def test_two_processes_give_the_same_race_as_one(engine) -> None:
    scenario = short("iris_grid", epochs=4, repeats=2)
    one = drive(engine(scenario), finished)
    two_process = engine(scenario, processes=2)
    assert len(two_process.pids) == 2
    two = drive(two_process, finished)
    assert one.started is not None and two.started is not None
    assert one.started.fingerprint == two.started.fingerprint
    assert sorted(one.specs) == sorted(two.specs)
    for rid, stats in one.stats.items():
        assert two.stats[rid].loss == stats.loss  # bit for bit
        assert (two.stats[rid].status, two.stats[rid].reason) == (stats.status, stats.reason)


def test_a_race_of_one_lockstep_group_is_not_split() -> None:
    """A verdict compares a racer with the best of its group at the same step: a group split
    over processes would give verdicts that depend on the split."""
    process = RaceProcess(short("iris_grid", epochs=2), processes=2)
    assert process.count == 1


def test_the_race_is_at_step_0_until_every_child_has_reported(engine) -> None:
    """Both children started, one has not sent a snapshot yet: the race's step and epoch stay
    0, however far the other has run. They say how far every racer is; Ctrl+C in headless
    mode trusts them to mean every racer has results. Real messages from a running child
    are fed to the merge of a two-child race, the second child silent after RaceStarted."""
    source = engine(short("iris_grid", epochs=20, repeats=2))
    messages = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        isinstance(m, Snapshot) and m.step > 50 for m in messages
    ):
        messages += source.poll(0.05)
    started = next(m for m in messages if isinstance(m, RaceStarted))
    snapshots = [m for m in messages if isinstance(m, Snapshot)]
    assert snapshots and snapshots[-1].step > 50
    merge = RaceProcess(short("iris_grid", epochs=20, repeats=2), processes=2)
    out: list[object] = []
    merge._receive(0, started, out)
    merge._receive(1, dataclasses.replace(started, racers=()), out)
    for snapshot in snapshots:
        merge._receive(0, snapshot, out)
    merged = [m for m in out if isinstance(m, Snapshot)]
    assert len(merged) == len(snapshots)
    assert all(m.step == 0 and m.epoch == 0 and m.state == "running" for m in merged)
    out.clear()
    merge._receive(1, dataclasses.replace(snapshots[0], racers=()), out)
    assert [m.step for m in out if isinstance(m, Snapshot)] == [snapshots[0].step]


def test_an_idle_race_sends_nothing(engine) -> None:
    """Finished (or paused), nothing changes until a command comes: no snapshots stream, so
    an idle race costs the app nothing."""
    process = engine(short("quickstart"), snapshot_hz=50)
    drive(process, finished)
    idle = [m for _ in range(10) for m in process.poll(0.05)]
    assert idle == []
    process.send(Pause())  # a command is answered with a snapshot, even when nothing changed
    assert any(m for _ in range(40) for m in process.poll(0.05))


def test_a_restart_across_two_processes_starts_before_it_streams(engine) -> None:
    """Children restart one after the other: the merged stream announces the new race
    before any of its snapshots, and the restarted race runs to the end again."""
    scenario = short("iris_grid", epochs=4, repeats=2)
    process = engine(scenario, processes=2)
    first = drive(process, finished)
    process.send(Restart())
    messages: list[object] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages.extend(process.poll(0.05))
        snapshots = [m for m in messages if isinstance(m, Snapshot)]
        if snapshots and snapshots[-1].state == "finished":
            break
    started = [i for i, m in enumerate(messages) if isinstance(m, RaceStarted)]
    assert len(started) == 1
    assert not any(isinstance(m, Snapshot) for m in messages[: started[0]])
    again = RaceRecord()
    for message in messages:
        again.apply(message)
    assert again.state == "finished"
    assert {rid: s.loss for rid, s in again.stats.items()} == {
        rid: s.loss for rid, s in first.stats.items()
    }


def test_commands_reach_the_child(engine, tmp_path) -> None:
    process = engine(short("quickstart", epochs=100_000))
    record = drive(process, lambda r: r.started is not None and r.step > 0)
    process.send(Pause())
    drive(process, lambda r: r.state == "paused", record=record)
    process.send(SaveWeights(str(tmp_path)))
    saved = []
    deadline = time.monotonic() + 20
    while not saved and time.monotonic() < deadline:
        saved = [m for m in process.poll(0.1) if isinstance(m, WeightsSaved)]
    assert saved and len(saved[0].paths) == len(record.specs)
    assert all(os.path.exists(path) for path in saved[0].paths)
    process.send(Resume())
    drive(process, lambda r: r.state == "running")


def test_a_killed_engine_is_reported_not_hung(engine) -> None:
    process = engine(short("quickstart", epochs=100_000))
    drive(process, lambda r: r.started is not None)
    os.kill(process.pids[0], signal.SIGKILL)
    failures: list[EngineFailed] = []
    deadline = time.monotonic() + 10
    while not failures and time.monotonic() < deadline:
        try:
            failures = [m for m in process.poll(0.1) if isinstance(m, EngineFailed)]
        except EOFError:
            break
    assert failures or not process.alive
    assert not process.alive
    process.close()


def test_a_bad_scenario_fails_in_the_child_with_one_line(engine, tmp_path) -> None:
    """The file parses; the child's deep check finds the model does not fit the data."""
    path = tmp_path / "wrong_layers.toml"
    path.write_text(
        'title = "wrong layers"\nepochs = 3\n[data]\nsource = "iris"\n'
        '[model]\nlayers = [5, 8, 3]\n[[racer]]\noptimizer = "adam"\n'
    )
    process = engine(load_scenario(path, check=False))
    failures: list[EngineFailed] = []
    record = RaceRecord()
    deadline = time.monotonic() + 30
    while not failures and time.monotonic() < deadline:
        for message in process.poll(0.05):
            record.apply(message)
            failures += [message] if isinstance(message, EngineFailed) else []
    assert len(failures) == 1 and failures[0].invalid_scenario
    assert record.engine_error is not None
    assert "model.layers: the input size is 5 but iris gives 4 features" in record.engine_error
    assert "\n" not in record.engine_error and "Traceback" not in record.engine_error
    assert record.started is None and record.state == "stopped"  # no race began


def test_the_engine_exits_when_its_parent_dies() -> None:
    code = textwrap.dedent(
        """
        import dataclasses, os, sys, time
        from tui_optim.race.process import RaceProcess
        from tui_optim.scenario import load_scenario
        scenario = dataclasses.replace(load_scenario("quickstart"), epochs=1_000_000)
        process = RaceProcess(scenario)
        process.start()
        process.poll(5.0)
        print(process.pids[0], flush=True)
        os._exit(0)  # no cleanup at all: as if the terminal had been closed
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(result.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the engine process outlived its parent")


def test_messages_pickle_through_the_pipe(engine) -> None:
    process = engine(short("peaks_zoo"))
    record = drive(process, finished)
    assert isinstance(record.started, RaceStarted)
    assert record.started.problem.kind == "surface"
    assert all(h.arrays()["position"].shape[1] == 2 for h in record.histories.values())
