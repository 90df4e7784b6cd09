"""The loss chart's builder process: plotext off the app's interpreter.

A plotext build with two dozen racers costs a few hundred milliseconds of pure Python. In a
thread of the app it would hold the interpreter lock that long, and key
presses would wait for it; so the app sends each :class:`~tui_optim.ui.chart_build.ChartPlan`
through a pipe to this child, which answers with the chart's ANSI text.

Like the engine, the child is a plain subprocess (no multiprocessing resource tracker), it
ignores Ctrl+C (the app handles it) and exits when told to or when its pipe closes. It runs
at a lower priority than the engine and the app (``NICENESS``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from tui_optim.race.child import parent_pipe, spawn_child, stop_children
from tui_optim.ui.chart_build import ChartPlan, draw_chart

#: Seconds ``close`` waits for the child before killing it.
JOIN_SECONDS = 2.0
#: The child's niceness: when the CPUs are short, the race (and the app answering keys)
#: come before a chart that is redrawn anyway a moment later.
NICENESS = 10


class ChartProcess:
    """One child that draws charts; ``build`` blocks (call it from a worker thread)."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def build(self, plan: ChartPlan) -> str:
        """The chart's ANSI text; starts the child on first use. OSError/EOFError when the
        child is gone (the caller then draws in-process)."""
        with self._lock:
            if self._conn is None:
                self._start()
            assert self._conn is not None
            self._conn.send(plan)
            text = self._conn.recv()
            if not isinstance(text, str):
                raise OSError(f"chart process: {text}")
            return text

    def _start(self) -> None:
        self._child, self._conn = spawn_child("tui_optim.ui.chart_process")

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def close(self) -> None:
        """Stop the child and wait for it; idempotent, safe while a build is in flight."""
        conn, child = self._conn, self._child
        self._conn = self._child = None
        stop_children(
            [] if child is None else [child], [] if conn is None else [conn], None, JOIN_SECONDS
        )


def main(argv: list[str]) -> None:
    """Entry point of the child: ``python -m tui_optim.ui.chart_process FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):  # POSIX
        os.nice(NICENESS)
    from tui_optim.ui.plotext_private import new_figure

    conn = parent_pipe(argv)
    figure = new_figure()
    while True:
        try:
            plan = conn.recv()
        except (EOFError, OSError):
            return
        if plan is None:
            return
        answer: str | bytes
        try:
            answer = draw_chart(figure, plan)
        except Exception as error:  # reported to the app, which then draws in-process
            answer = f"{type(error).__name__}: {error}".encode()
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return


if __name__ == "__main__":
    main(sys.argv[1:])
