"""The engine process: a :class:`~tui_optim.race.race.Race` in a child process.

The training loop must not share an interpreter lock with the UI, so the
race runs in one child process (or several, each with a share of the racers) and streams
messages through a pipe at a bounded rate; commands go the other way. The app and the
headless command line both use :class:`RaceProcess`.

A child exits when it is told to, when the pipe to its parent closes (the parent quit or
died: the terminal was closed), and it ignores Ctrl+C, which the parent handles.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from tui_optim.race.child import parent_pipe, spawn_child, stop_children
from tui_optim.race.messages import (
    AddRacer,
    Command,
    EngineFailed,
    ForkRacer,
    RacersChanged,
    RacerSpec,
    RaceStarted,
    RaceState,
    RemoveRacer,
    SaveWeights,
    SetHparam,
    Snapshot,
    WeightsSaved,
)
from tui_optim.race.partition import group_count
from tui_optim.scenario import Scenario

#: Each engine process runs its BLAS on one thread: OpenBLAS would otherwise start a thread
#: per core in every process, and two engine processes (or one beside the app) on a 2-core
#: machine then fight over the cores (measured: 2 processes gained 1.5x over 1 with the
#: default threads, 2.7x with one each; benchmarks/race_throughput.py). A value the user
#: set in the environment wins.
ONE_BLAS_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

#: Sent instead of a command to end a child.
_CLOSE = "close"
#: Longest stretch of training between two looks for commands.
COMMAND_SLICE_SECONDS = 0.02
#: Seconds close() waits for a child before terminating it.
JOIN_SECONDS = 3.0


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class ParentGone(Exception):
    """The pipe to the parent closed: nobody is left to report to."""


class _ParentPipe:
    """The child's end of the pipe, whose failures are told apart from the race's own.

    An EOFError raised while racing (NumPy raises it for a truncated .npz file) is a fault
    to report; only one raised by the pipe itself means the parent is gone.
    """

    def __init__(self, conn: Connection):
        self.conn = conn

    def send(self, message: Any) -> None:
        try:
            self.conn.send(message)
        except (EOFError, BrokenPipeError, ConnectionResetError) as error:
            raise ParentGone from error

    def recv(self) -> Any:
        try:
            return self.conn.recv()
        except (EOFError, OSError) as error:
            raise ParentGone from error

    def poll(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout)
        except (EOFError, OSError) as error:
            raise ParentGone from error


def _engine_main(
    conn: Connection,
    scenario: Scenario,
    subset: tuple[int, int],
    snapshot_hz: float,
    options: dict[str, Any] | None = None,
) -> None:
    """The child's loop: run the race, answer commands, send snapshots at ``snapshot_hz``.
    ``options``: ``pace`` (steps per second, None: no limit), ``watch_seconds`` (start at the
    pace at which the race lasts about that long, :func:`~tui_optim.race.pace.pace_lasting`)
    and ``paused`` (start paused)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _silence_terminal()
    try:
        _serve(_ParentPipe(conn), scenario, subset, snapshot_hz, options or {})
    except ParentGone:
        return
    except Exception as error:
        with contextlib.suppress(OSError, ValueError):
            conn.send(EngineFailed(f"engine error: {one_line(error)}"))


def _serve(
    conn: _ParentPipe,
    scenario: Scenario,
    subset: tuple[int, int],
    hz: float,
    options: dict[str, Any],
) -> None:
    from tui_optim.race.race import Race
    from tui_optim.scenario import ScenarioError, check_scenario

    # The parent only parsed the file (so the app's first frame never waits for the data):
    # the deep check of data and model happens here, once, off the UI's process.
    try:
        check_scenario(scenario)
    except ScenarioError as error:
        conn.send(EngineFailed(str(error), invalid_scenario=True))
        return
    race = Race(scenario, subset, pace=options.get("pace"), paused=bool(options.get("paused")))
    started = race.started()
    if options.get("watch_seconds"):
        from tui_optim.race.pace import pace_lasting

        race.set_pace(pace_lasting(started, options["watch_seconds"]))
    conn.send(started)
    conn.send(race.snapshot())
    period = 1.0 / hz
    last_sent = time.perf_counter()
    sent_step = -1
    while True:
        changed = False
        if race.state != "running":
            timeout = period
        else:
            # At a set pace the race waits for its next step here, answering commands,
            # rather than spinning (a step at 1 step/s is due once a second).
            timeout = min(race.wait_seconds(), max(0.0, last_sent + period - time.perf_counter()))
            if race.wait_seconds() == 0.0:
                timeout = 0.0
        while conn.poll(timeout):
            command = conn.recv()
            if command == _CLOSE:
                return
            for reply in race.handle(command):
                conn.send(reply)
            changed = True
            timeout = 0.0
        state = race.state
        if state == "running":
            # Short slices between looks at the pipe: a key press in the app waits for the
            # slice to end, and 20 ms of training is plenty to amortise a poll.
            until_snapshot = max(0.0, last_sent + period - time.perf_counter())
            race.advance(min(COMMAND_SLICE_SECONDS, until_snapshot) or 0.005)
        now = time.perf_counter()
        # Paused or finished, nothing changes until a command arrives: no snapshots, so an
        # idle race costs the app nothing.
        due = state == "running" and now - last_sent >= period
        if due and race.pace is not None and race.progress_step() == sent_step:
            due = False  # waiting for the pace: nothing new to show
            last_sent = now
        if changed or race.state != state or due:
            conn.send(race.snapshot())
            last_sent = now
            sent_step = race.progress_step()


def _silence_terminal() -> None:
    """Point the child's stdout/stderr at /dev/null: it shares the terminal the app draws
    on, and everything it has to say goes through the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)


class RaceProcess:
    """A race running in ``processes`` child processes, each with a share of the racers.

    ``start()``, then ``poll(timeout)`` for messages (RaceStarted, Snapshot, RacersChanged,
    EngineFailed, CommandRejected, WeightsSaved) and ``send(command)``; ``close()`` always.
    With several processes, messages are merged so a watcher sees one race.
    """

    def __init__(
        self,
        scenario: Scenario,
        processes: int = 1,
        snapshot_hz: float = 10.0,
        *,
        pace: float | None = None,
        watch_seconds: float | None = None,
        paused: bool = False,
    ):
        count = max(1, min(int(processes), group_count(scenario)))
        self.scenario = scenario
        #: Steps per second the race starts at (None: as fast as it goes) or, when
        #: ``watch_seconds`` is given, the pace at which the race lasts about that long (the
        #: engine knows the steps once it loaded the data); and whether it starts paused.
        self.options: dict[str, Any] = {
            "pace": pace,
            "watch_seconds": watch_seconds,
            "paused": paused,
        }
        self.count = count
        self.snapshot_hz = snapshot_hz
        self._children: list[subprocess.Popen[bytes]] = []
        self._conns: list[Connection] = []
        self._started: list[RaceStarted | None] = [None] * count
        self._specs: list[tuple[RacerSpec, ...]] = [()] * count
        self._latest: list[Snapshot | None] = [None] * count
        self._held: list[Snapshot] = []
        self._saved: list[tuple[str, ...] | None] = [None] * count
        self._failed = False
        #: Children whose pipe closed (their conn is no longer waited on).
        self._closed: set[int] = set()
        #: Children that reported their own failure (EngineFailed) before their pipe closed.
        self._reported: set[int] = set()

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        for index in range(self.count):
            child, parent_end = spawn_child("tui_optim.race.process", ONE_BLAS_THREAD)
            parent_end.send((self.scenario, (index, self.count), self.snapshot_hz, self.options))
            self._children.append(child)
            self._conns.append(parent_end)

    @property
    def alive(self) -> bool:
        return (
            bool(self._children)
            and not self._failed
            and all(child.poll() is None for child in self._children)
        )

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self._children if child.pid is not None]

    def close(self) -> None:
        """Stop every child and wait for it; idempotent, leaves no process behind."""
        stop_children(self._children, self._conns, _CLOSE, JOIN_SECONDS)
        self._children = []
        self._conns = []

    # ---------------------------------------------------------------- commands
    def send(self, command: Command) -> None:
        """Send ``command`` to the child(ren) it concerns."""
        if not self._conns:
            raise OSError("the engine is not running")
        if isinstance(command, SetHparam | RemoveRacer | ForkRacer):
            targets = [self._owner(command.racer)]
        elif isinstance(command, AddRacer):
            targets = [min(range(self.count), key=lambda i: len(self._specs[i]))]
        else:
            targets = list(range(self.count))
        if isinstance(command, SaveWeights):
            self._saved = [None] * self.count
        for index in targets:
            self._conns[index].send(command)

    def _owner(self, racer: int) -> int:
        for index, specs in enumerate(self._specs):
            if any(spec.id == racer for spec in specs):
                return index
        return 0  # unknown racer: let the first child reject it with a message

    # ---------------------------------------------------------------- messages
    def poll(self, timeout: float) -> list[Any]:
        """Messages that arrived within ``timeout`` seconds (merged); EOFError when gone."""
        if not self._conns:
            raise EOFError("the engine is not running")
        out: list[Any] = []
        open_conns = [c for i, c in enumerate(self._conns) if i not in self._closed]
        if not open_conns:
            time.sleep(timeout)
            return out
        ready = wait(open_conns, timeout)
        for conn in ready:
            assert isinstance(conn, Connection)  # wait() returns what it was given
            index = self._conns.index(conn)
            try:
                while conn.poll(0):
                    message = conn.recv()
                    if isinstance(message, EngineFailed):
                        self._reported.add(index)
                    self._receive(index, message, out)
            except (EOFError, OSError) as error:
                self._failed = True
                self._closed.add(index)
                # A child that said why it failed has said it: its closing pipe must not
                # replace the cause with "stopped (EOFError)".
                if index not in self._reported:
                    cause = self._exit_cause(index, error)
                    out.append(EngineFailed(f"engine process {index} {cause}"))
                break
        return out

    def _exit_cause(self, index: int, error: BaseException) -> str:
        """Why child ``index`` went away: the signal that killed it, its exit code, or the
        pipe error when it is still running."""
        child = self._children[index]
        try:
            code = child.wait(0.5)
        except subprocess.TimeoutExpired:
            return f"stopped answering ({one_line(error)})"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        return f"exited with code {code} without a word"

    def _receive(self, index: int, message: Any, out: list[Any]) -> None:
        if self.count == 1:
            if isinstance(message, (RaceStarted, RacersChanged)):
                self._specs[0] = message.racers
            elif isinstance(message, EngineFailed):
                self._failed = True
            out.append(message)
            return
        if isinstance(message, RaceStarted):
            self._started[index] = message
            self._specs[index] = message.racers
            self._latest[index] = None
            if all(s is not None for s in self._started):
                first = self._started[0]
                assert first is not None
                out.append(_replace(first, racers=self._all_specs()))
                self._started = [None] * self.count
                held, self._held = self._held, []
                out.extend(self._merged(snapshot) for snapshot in held)
        elif isinstance(message, RacersChanged):
            self._specs[index] = message.racers
            out.append(RacersChanged(self._all_specs()))
        elif isinstance(message, Snapshot):
            self._latest[index] = message
            if any(s is not None for s in self._started):
                # Some children started (or restarted) and others not yet: the watcher must
                # see RaceStarted before any snapshot of the new race. An idle child sends
                # nothing more, so nothing may be dropped either.
                self._held.append(message)
            else:
                out.append(self._merged(message))
        elif isinstance(message, WeightsSaved):
            self._saved[index] = message.paths
            if all(s is not None for s in self._saved):
                paths = tuple(p for part in self._saved if part is not None for p in part)
                out.append(WeightsSaved(paths))
                self._saved = [None] * self.count
        else:
            if isinstance(message, EngineFailed):
                self._failed = True
            out.append(message)

    def _merged(self, message: Snapshot) -> Snapshot:
        """``message`` (one child's racers) with the race's progress and state over all."""
        latest = [s for s in self._latest if s is not None]
        states = {s.state for s in latest}
        if len(latest) < self.count:
            states.add("running")
        if "running" in states:
            state: RaceState = "running"
        elif states == {"finished"}:
            state = "finished"
        elif "paused" in states:
            state = "paused"
        else:
            state = "stopped" if "stopped" in states else "finished"
        # The race is as far as its slowest child; one that has not reported is at step 0.
        all_reported = len(latest) == self.count
        return _replace(
            message,
            step=min(s.step for s in latest) if all_reported else 0,
            epoch=min(s.epoch for s in latest) if all_reported else 0.0,
            seconds=max(s.seconds for s in latest),
            state=state,
        )

    def _all_specs(self) -> tuple[RacerSpec, ...]:
        specs = [spec for part in self._specs for spec in part]
        return tuple(sorted(specs, key=lambda spec: spec.id))


def _replace(message: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(message, **changes)


def main(argv: list[str]) -> None:
    """Entry point of an engine process: ``python -m tui_optim.race.process FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = parent_pipe(argv)
    try:
        scenario, subset, snapshot_hz, options = conn.recv()
    except (EOFError, OSError):
        return
    _engine_main(conn, scenario, subset, snapshot_hz, options)


if __name__ == "__main__":
    main(sys.argv[1:])
