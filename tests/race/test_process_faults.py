"""An engine process that fails says why, and nothing after replaces that cause."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

from broken_scenarios import BROKEN_INIT

from tui_optim.race.process import RaceProcess
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario


def drain(process: RaceProcess, until, timeout: float = 20.0) -> RaceRecord:
    """Fold messages until ``until(record)``, then one more second of them (a later
    message must not change what was recorded)."""
    record = RaceRecord()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(record):
        for message in process.poll(0.05):
            record.apply(message)
    assert until(record), "the engine never got there"
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:
        for message in process.poll(0.05):
            record.apply(message)
    return record


def test_an_eof_error_of_the_race_is_reported_not_taken_for_the_parent_leaving(
    tmp_path: Path,
) -> None:
    (tmp_path / "empty.npz").write_bytes(b"")
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN_INIT)
    process = RaceProcess(load_scenario(str(path), check=False))
    process.start()
    try:
        record = drain(process, lambda r: r.engine_error is not None)
    finally:
        process.close()
    assert record.engine_error is not None
    assert "stopped" not in record.engine_error, record.engine_error
    # NumPy's own words about the file reach the watcher (or the scenario check's line).
    assert "EOFError" in record.engine_error or "empty.npz" in record.engine_error


def test_a_killed_engine_names_the_signal_and_keeps_the_first_cause() -> None:
    scenario = dataclasses.replace(load_scenario("quickstart"), epochs=100_000, repeats=2)
    process = RaceProcess(scenario, processes=2)
    process.start()
    try:
        record = drain(process, lambda r: r.snapshot_count > 0)
        os.kill(process.pids[1], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while record.engine_error is None and time.monotonic() < deadline:
            for message in process.poll(0.05):
                record.apply(message)
        os.kill(process.pids[0], signal.SIGKILL)  # a second, later failure
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            for message in process.poll(0.05):
                record.apply(message)
    finally:
        process.close()
    assert record.engine_error == "engine process 1 was killed by SIGKILL"
