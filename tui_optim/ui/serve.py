"""Serve the app in a web browser through textual-serve (each browser tab runs its own app)."""

from __future__ import annotations

import atexit
import ipaddress
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(scenario: str | Path | None) -> str:
    """The shell command textual-serve runs for each browser session."""
    parts = [sys.executable, "-m", "tui_optim"]
    if scenario is not None:
        parts.append(str(scenario))
    return shlex.join(parts)


#: A <link> to a stylesheet on another host (textual-serve's page loads Google's web fonts).
REMOTE_STYLESHEET = re.compile(r"<link\b[^>]*href=\"https?://[^\"]*\"[^>]*/?>", re.DOTALL)
#: textual-serve ships the font in its static folder: the page takes it from there.
LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf");
      }
    </style>"""


def offline_templates() -> Path:
    """A folder with textual-serve's page template made self-contained: nothing in it is
    fetched from another host (a lab without internet, or one that must not call out)."""
    import textual_serve

    source = Path(textual_serve.__file__).parent / "templates"
    folder = Path(tempfile.mkdtemp(prefix="tui-optim-serve-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for template in source.iterdir():
        if template.suffix == ".html":
            text = REMOTE_STYLESHEET.sub(LOCAL_FONT, template.read_text(encoding="utf-8"))
            (folder / template.name).write_text(text, encoding="utf-8")
    return folder


def serve(scenario: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``python -m tui_optim SCENARIO`` on http://host:port until interrupted.

    Binds the loopback address unless told otherwise; any other address lets every machine
    that can reach it drive the app (and the machine's CPU), so a warning goes to stderr.
    """
    if not is_loopback(host):
        print(
            f"warning: serving on {host}: anyone who can reach this address can use the app "
            "(it has no login); use 127.0.0.1 and an SSH tunnel to keep it private",
            file=sys.stderr,
        )
    server_class()(
        serve_command(scenario),
        host=host,
        port=port,
        title="tui-optim",
        templates_path=offline_templates(),
    ).serve()


def server_class() -> type:
    """textual-serve's Server, ending promptly on Ctrl+C while browsers are connected.

    aiohttp's shutdown waits (up to a minute) for every request handler to return, and a
    browser tab's websocket handler returns only when the tab closes it: Ctrl+C with a tab
    open took ~20 s. On shutdown the open sessions are cancelled instead; textual-serve's
    handler then closes the websocket and stops the tab's app.
    """
    import asyncio

    from aiohttp import web
    from textual_serve.server import Server

    class PromptServer(Server):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.sessions: set[asyncio.Task[object]] = set()

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            task = asyncio.current_task()
            if task is not None:
                self.sessions.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                if task is not None:
                    self.sessions.discard(task)

        async def on_shutdown(self, app: web.Application) -> None:
            for task in list(self.sessions):
                task.cancel()
            await super().on_shutdown(app)

    return PromptServer
