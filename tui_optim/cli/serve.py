"""``tui-optim serve``: the app in a web browser."""

from __future__ import annotations

import argparse

from tui_optim.cli.common import UsageError, load


def command_serve(options: argparse.Namespace) -> int:
    import socket

    from tui_optim.ui.serve import serve

    if not 0 <= options.port <= 65535:
        raise UsageError(f"--port {options.port}: must be 0 ... 65535")
    try:
        socket.getaddrinfo(options.host, options.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"--host {options.host}: cannot resolve it ({reason})") from None
    if options.scenario is not None:
        load(options.scenario, check=False)  # a missing or unreadable file: refused now
    try:
        serve(options.scenario, options.host, options.port)
        return 0
    except OSError as error:
        raise UsageError(
            f"cannot serve on {options.host}:{options.port} ({error.strerror or error})"
        ) from None
