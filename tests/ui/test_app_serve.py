"""serve(): loopback by default, a warning on any other address, the right app command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from tui_optim.ui.serve import is_loopback, serve_command


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_serve_command_runs_the_app_module_with_the_scenario() -> None:
    command = serve_command("iris race.toml")
    assert command.startswith(sys.executable) or sys.executable in command
    assert "-m tui_optim" in command and "'iris race.toml'" in command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("host", "warns"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serve_listens_and_warns_only_off_loopback(host: str, warns: bool) -> None:
    port = _free_port()
    code = f"from tui_optim.ui.serve import serve; serve(None, host={host!r}, port={port})"
    server = subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, "serve exited early"
            time.sleep(0.1)
        else:
            pytest.fail("serve never listened")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert ("warning: serving on" in stderr) is warns
