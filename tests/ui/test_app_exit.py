"""How the app ends: exit codes, signals, and the terminal left as it was found."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest
from broken_scenarios import BROKEN_INIT

import tui_optim.ui.app
from tui_optim.ui.app import TuiOptimApp

ALTERNATE_SCREEN_OFF = b"\x1b[?1049l"
MOUSE_REPORTING_OFF = b"\x1b[?1000l"


def read_until(fd: int, done, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(out):
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_app_promptly_and_restores_the_terminal(signum: int, code: int) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on a terminal of its own
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "tui_optim", "scratch_adam"])
    try:
        shown = read_until(fd, lambda out: b"Adam" in out and b"\x1b[?1049h" in out, 30)
        assert b"\x1b[?1049h" in shown, "the app never drew its first frame"
        time.sleep(0.3)
        os.kill(pid, signum)
        sent = time.monotonic()
        rest = read_until(fd, lambda out: False, 10)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert os.waitstatus_to_exitcode(status) == code
    assert time.monotonic() - sent < 3
    assert ALTERNATE_SCREEN_OFF in rest and MOUSE_REPORTING_OFF in rest


async def test_quitting_at_a_bad_scenario_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('title = "x"\nepochs = "many"\n')
    app = TuiOptimApp(path, test_mode=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("q")
    assert tui_optim.ui.app.exit_code(app) == 2


class FaultyApp(TuiOptimApp):
    CSS_PATH = Path(tui_optim.ui.app.__file__).with_name("app.tcss")

    def action_toggle_theme(self) -> None:
        raise RuntimeError("a fault in the app")


async def test_a_crash_exits_non_zero() -> None:
    app = FaultyApp("scratch_adam", test_mode=True)
    with pytest.raises(RuntimeError, match="a fault in the app"):
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.2)
            await pilot.press("t")
    assert tui_optim.ui.app.exit_code(app) == 1




async def test_an_engine_failure_shows_its_cause_before_and_after_r(tmp_path: Path) -> None:
    from tui_optim.ui.testing import wait_until

    (tmp_path / "empty.npz").write_bytes(b"")
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN_INIT)
    app = TuiOptimApp(path, test_mode=True)
    async with app.run_test(size=(100, 30)) as pilot:
        causes = []
        for _ in range(2):
            await wait_until(pilot, lambda: app.model.engine_error is not None, 30)
            causes.append(app.model.engine_error)
            await pilot.pause(0.5)  # what follows the failure must not replace its cause
            assert app.model.engine_error == causes[-1]
            if len(causes) == 1:
                await pilot.press("r")  # restarts the engine: the same file, the same cause
    for cause in causes:
        assert cause is not None and "stopped" not in cause
        assert "EOFError" in cause or "empty.npz" in cause
