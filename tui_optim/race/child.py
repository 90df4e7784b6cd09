"""Child processes that talk to their parent through one pipe: the engine, sweep workers and
the app's chart builder.

A plain subprocess, not multiprocessing's spawn: no resource-tracker process outlives the
parent, and it is safe to start from the app's threads. The child runs ``python -m MODULE
FD``; its ``main`` turns FD back into a :class:`Connection` with :func:`parent_pipe`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any


def spawn_child(
    module: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Connection]:
    """Start ``python -m module FD`` with its standard streams on /dev/null; returns the
    process and the parent's end of the pipe. ``env`` adds to (and yields to) the
    environment's own values."""
    parent_end, child_end = mp.Pipe()
    child = subprocess.Popen(
        [sys.executable, "-m", module, str(child_end.fileno())],
        pass_fds=(child_end.fileno(),),
        env={**(env or {}), **os.environ},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    child_end.close()
    return child, parent_end


def parent_pipe(argv: list[str]) -> Connection:
    """In the child: the pipe to the parent, from the FD :func:`spawn_child` passed."""
    return Connection(int(argv[0]))


def stop_children(
    children: Sequence[subprocess.Popen[bytes]],
    conns: Sequence[Connection],
    goodbye: Any,
    seconds: float,
) -> None:
    """Send ``goodbye`` down every pipe, give the children ``seconds`` together to end,
    kill those still running, and close the pipes: no process is left behind."""
    for conn in conns:
        with contextlib.suppress(OSError, ValueError):
            conn.send(goodbye)
    deadline = time.monotonic() + seconds
    for child in children:
        try:
            child.wait(max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    for conn in conns:
        conn.close()
