"""What a headless run does when things go wrong: signals, a dead engine, exports that
cannot be written, outputs that must not be written, weights that cannot be saved.

Real subprocesses and real signals; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest


def run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_optim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )

#: A race that never ends by itself (the tests stop it).
ENDLESS = ("run", "quickstart", "--headless", "--epochs", "100000")


def start(*args: str, cwd: Path, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_optim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


def wait_for_progress(process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Until the run prints a progress line past step 0 that shows losses (every racer has
    recorded points: losses are evaluated on the recorder's cadence, not every step)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.match(r"epoch [\d.]+ step (\d+): \S", line)
        if match and int(match.group(1)) > 0:
            return
        if not line and process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"no progress line: {process.communicate()[1]}")


def finish(process: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the run did not end in time")
    return process.returncode, err


def engines_of(process: subprocess.Popen[str]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def assert_partial_json(path: Path) -> None:
    document = json.loads(path.read_text())
    assert document["racers"] and all(r["history"]["step"] for r in document["racers"])


# ------------------------------------------------------------------------------ signals
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_end_a_run_like_ctrl_c(tmp_path: Path, signum: int, code: int) -> None:
    process = start(*ENDLESS, "--json", "out.json", "--csv", "out.csv", cwd=tmp_path)
    wait_for_progress(process)
    engines = engines_of(process)
    os.kill(process.pid, signum)
    returncode, err = finish(process)
    assert returncode == code, err
    assert "Traceback" not in err
    assert_partial_json(tmp_path / "out.json")
    assert (tmp_path / "out.csv").read_text().count("\n") > 1
    _, alive = psutil.wait_procs(engines, timeout=5)
    assert alive == []


def test_a_killed_engine_keeps_the_results_so_far_and_says_why(tmp_path: Path) -> None:
    process = start(*ENDLESS, "--json", "out.json", "--weights", "w", cwd=tmp_path)
    wait_for_progress(process)
    (engine,) = engines_of(process)
    engine.kill()
    started = time.monotonic()
    returncode, err = finish(process)
    assert returncode == 1
    lines = err.strip().splitlines()
    assert lines[0] == "tui-optim: engine process 0 was killed by SIGKILL", err
    assert any("--weights w: not written, the engine stopped" in line for line in lines), err
    assert time.monotonic() - started < 10  # no wait for weights a dead engine cannot write
    assert_partial_json(tmp_path / "out.json")


# ------------------------------------------------------------------------------ weights
@pytest.mark.parametrize(
    ("prepare", "weights", "expected"),
    [
        (lambda d: (d / "file").write_text("x"), "file/w", "file is a file, not a directory"),
        (lambda d: (d / "w" / "adam.npz").mkdir(parents=True), "w", "exists and is not a file"),
    ],
)
def test_weights_that_cannot_be_written_are_refused_before_the_race(
    tmp_path: Path, prepare: Callable[[Path], object], weights: str, expected: str
) -> None:
    prepare(tmp_path)
    started = time.monotonic()
    result = run("run", "scratch_adam", "--epochs", "2", "--weights", weights, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and result.stderr.count("\n") == 1
    assert time.monotonic() - started < 10


SURFACE_RACE = 'title = "t"\nepochs = 2\n[surface]\nfunction = "rosenbrock"\n'


def racers(*names: str) -> str:
    return "".join(f'[[racer]]\nname = "{name}"\noptimizer = "adam"\n' for name in names)


def test_a_racer_name_too_long_for_a_file_name_still_saves_its_weights(tmp_path: Path) -> None:
    (tmp_path / "long.toml").write_text(SURFACE_RACE + racers("x" * 300))
    result = run("run", "long.toml", "--weights", "w", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (saved,) = (tmp_path / "w").iterdir()
    assert saved.suffix == ".npz" and len(saved.name) < 255


def test_weight_files_are_unique_across_engine_processes(tmp_path: Path) -> None:
    names = ("Adam A", "adam-a", "adam_a", "ADAM/A", "adam a", "Adam  A!", "adam-a-2", "a")
    (tmp_path / "clash.toml").write_text(SURFACE_RACE + racers(*names))
    result = run(
        "run", "clash.toml", "--processes", "2", "--weights", "w", "--csv", "out.csv", "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "w").iterdir())) == len(names)
    rows = (tmp_path / "out.csv").read_text().splitlines()[1:]
    slug_of = {}
    for row in rows:
        name, slug = row.split(",")[:2]
        assert slug_of.setdefault(name, slug) == slug
    assert len(slug_of) == len(names) and len(set(slug_of.values())) == len(names)


# ------------------------------------------------------------------------------ exports
def test_failed_exports_are_reported_and_a_second_ctrl_c_skips_none(tmp_path: Path) -> None:
    """Each export is tried on its own: a JSON that cannot be written and weights the
    engine refuses to save are one line each, the CSV is still written; a second Ctrl+C
    50 ms after the first changes nothing."""
    (tmp_path / "gone").mkdir()
    process = start(
        *ENDLESS, "--json", "gone/out.json", "--csv", "out.csv", "--weights", "w", cwd=tmp_path
    )
    wait_for_progress(process)
    # After the check before the race: only the writes themselves find these.
    (tmp_path / "gone").rmdir()
    (tmp_path / "w" / "adam.npz").mkdir(parents=True)
    started = time.monotonic()
    os.kill(process.pid, signal.SIGINT)
    time.sleep(0.05)
    os.kill(process.pid, signal.SIGINT)
    returncode, err = finish(process)
    assert returncode == 130, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("tui-optim: --weights w: not written ("), err
    assert lines[1] == "tui-optim: gone/out.json: not written (No such file or directory)"
    assert len(lines) == 2
    assert (tmp_path / "out.csv").read_text().count("\n") > 1
    assert time.monotonic() - started < 10


def test_a_full_standard_output_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "tui_optim", *ENDLESS[:2], "--epochs", "1", "--json", "o.json"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "tui-optim: cannot print the leaderboard (No space left on device)"
    ]
    assert_partial_json(tmp_path / "o.json")


def make_device(path: Path, minor: int) -> None:
    """A character device node like /dev/null (minor 3) or /dev/full (7), in ``path``."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("making a device node needs root")


def test_a_device_is_written_through_never_replaced(tmp_path: Path) -> None:
    make_device(tmp_path / "null", 3)
    result = run("run", "scratch_adam", "--epochs", "1", "--json", "null", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat(tmp_path / "null").st_mode)


def test_a_full_disk_under_one_export_leaves_the_others(tmp_path: Path) -> None:
    make_device(tmp_path / "full", 7)
    result = run(
        "run", "scratch_adam", "--epochs", "1", "--json", "full", "--csv", "out.csv", "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "tui-optim: full: not written (No space left on device)\n"
    assert "fingerprint" in result.stdout  # the leaderboard
    assert (tmp_path / "out.csv").read_text().count("\n") > 1
    assert stat.S_ISCHR(os.stat(tmp_path / "full").st_mode)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--json", "mine.toml"), "--json mine.toml: that is an input of the race"),
        (("--json", "x", "--csv", "./x"), "--csv x: --json writes there too"),
    ],
)
def test_an_output_that_would_overwrite_an_input_or_another_output_is_refused(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    scenario = SURFACE_RACE + racers("a")
    (tmp_path / "mine.toml").write_text(scenario)
    result = run("run", "mine.toml", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"tui-optim: {expected}") and result.stderr.count("\n") == 1
    assert (tmp_path / "mine.toml").read_text() == scenario


def test_exports_follow_the_umask(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui_optim", "run", "scratch_adam", "--epochs", "1",
         "--json", "o.json", "--csv", "o.csv", "--weights", "w"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for path in [tmp_path / "o.json", tmp_path / "o.csv", *(tmp_path / "w").iterdir()]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, path


def test_a_weight_save_the_engine_never_answers_is_one_line(tmp_path: Path) -> None:
    import dataclasses

    from tui_optim.cli.run import save_weights
    from tui_optim.race.process import RaceProcess
    from tui_optim.results.record import RaceRecord
    from tui_optim.scenario import load_scenario

    scenario = dataclasses.replace(load_scenario("scratch_adam"), epochs=100_000)
    process = RaceProcess(scenario)
    process.start()
    record = RaceRecord()
    try:
        deadline = time.monotonic() + 30
        while record.started is None and time.monotonic() < deadline:
            for message in process.poll(0.05):
                record.apply(message)
        (pid,) = process.pids
        os.kill(pid, signal.SIGSTOP)  # alive, but deaf
        started = time.monotonic()
        failures = save_weights(process, record, tmp_path / "w", timeout=1.0)
        assert time.monotonic() - started < 5
        os.kill(pid, signal.SIGCONT)
    finally:
        process.close()
    expected = f"--weights {tmp_path / 'w'}: not written, the engine did not answer in 1 s"
    assert failures == [expected]
