"""serve refuses what it cannot serve in one line, and Ctrl+C ends it promptly even while a
browser tab is connected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from tui_optim.cli import main


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "99999"], "tui-optim: --port 99999: must be 0 ... 65535"),
        (["--host", "not.a.host.invalid"], "tui-optim: --host not.a.host.invalid: cannot resolve"),
        (["no-such-scenario.toml"], "tui-optim: no-such-scenario.toml: no such scenario file"),
    ],
)
def test_what_serve_cannot_serve_is_one_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _connect_and_interrupt(process: subprocess.Popen[bytes], port: int) -> float:
    """Open a browser session, wait for the app's first frame, Ctrl+C the server; the
    seconds until it exited."""
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 30
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/"):
                    break
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        socket_ = await session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30")
        received = 0
        while received < 5000 and time.monotonic() < deadline:
            message = await asyncio.wait_for(socket_.receive(), 30)
            if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                received += len(message.data)
        os.kill(process.pid, signal.SIGINT)
        interrupted = time.monotonic()
        while process.poll() is None and time.monotonic() - interrupted < 30:
            # The browser keeps its end open, as a tab does.
            with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                await asyncio.wait_for(socket_.receive(), 0.2)
        return time.monotonic() - interrupted


def test_ctrl_c_with_a_browser_connected_ends_serve_promptly() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_optim", "serve", "scratch_adam", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seconds = asyncio.run(_connect_and_interrupt(process, port))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    assert seconds < 8
