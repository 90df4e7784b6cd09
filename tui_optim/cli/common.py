"""What the commands share: one-line user errors, stop signals, checks of the outputs
before a race starts, writing the exports."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.table import Table

    from tui_optim.race.cluster import ClusterRequest
    from tui_optim.scenario import Scenario


EXIT_USAGE = 2


EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A user error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit 2 like every other user error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


#: More engine (or sweep worker) processes than this are never useful (the app's scenarios
#: have at most 64 racers; a sweep's blocks are 128 runs).
MAX_PROCESSES = 64


#: Longest file name (bytes) the common file systems take.
NAME_MAX = 255


def say(line: str) -> None:
    """One line on stderr (control characters escaped), if stderr is still there (a closed
    terminal, a full disk)."""
    from tui_optim.engine.errors import printable

    with contextlib.suppress(OSError):
        print(printable(line), file=sys.stderr, flush=True)


def stdout_failed(error: OSError) -> bool:
    """True when ``error`` came from standard output (a full disk, a closed pipe): then
    stdout goes to /dev/null, so that Python's own flush at exit has nothing to complain
    about."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    else:
        if not isinstance(error, BrokenPipeError):
            return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return True


def load(request: str, check: bool = True, capped: bool = True) -> Any:
    """The scenario, or a one-line UsageError (``check``: data and model too; ``capped``:
    the app's racer limits)."""
    from tui_optim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(request, check=check, capped=capped)
    except ScenarioError as error:
        raise UsageError(str(error)) from None


def print_table(table: Table) -> None:
    """Print a Rich table whole: a file or a pipe has no width, so it gets the table's own
    (Rich would squeeze it into 80 columns and cut numbers to "8.234e-…")."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        unbounded = console.options.update_width(10_000)
        console = Console(width=max(80, console.measure(table, options=unbounded).maximum))
    console.print(table)


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP during a headless run: stop, keep the results so far.

    A BaseException, as KeyboardInterrupt is: work that guards itself with ``except
    Exception`` (a sweep run in this process records an optimizer's error and goes on)
    must not take a signal for a failure of its own."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """While active, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (each ends a
    headless run like Ctrl+C: results so far are written, exit 128 + the signal). After
    :meth:`hold`, further ones are remembered and ignored, so a second Ctrl+C cannot cut
    the exports short."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        import signal

        self.signals = [getattr(signal, name) for name in self.SIGNALS if hasattr(signal, name)]
        self.previous: dict[int, Any] = {}
        self.first: int | None = None

    def __enter__(self) -> StopSignals:
        import signal

        for signum in self.signals:
            self.previous[signum] = signal.signal(signum, self._raise)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _raise(self, signum: int, frame: Any) -> None:
        if self.first is None:
            self.first = signum
            raise Interrupted(signum)

    def hold(self) -> None:
        """From now on, signals are only remembered (the first one sets the exit code)."""
        import signal

        for signum in self.signals:
            signal.signal(signum, self._remember)

    def _remember(self, signum: int, frame: Any) -> None:
        if self.first is None:
            self.first = signum


def check_output(path: Path | None, directory: bool = False) -> None:
    """Refuse unwritable export targets before the race starts."""
    if path is None:
        return
    option = "--weights" if directory else "file"
    too_long = [part for part in path.parts if len(os.fsencode(part)) > NAME_MAX]
    if too_long:
        raise UsageError(f"{path}: a name is longer than {NAME_MAX} bytes")
    if directory and path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: not a directory")
    if not directory:
        from tui_optim.engine.atomic import check_writable_target

        try:
            check_writable_target(path)
        except OSError as error:
            raise UsageError(str(error)) from None
    parent = path if directory else path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{path}: {existing} is a file, not a directory")
    if not directory and not parent.is_dir():
        raise UsageError(f"{path}: no such directory {parent}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: not writable")


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(options: argparse.Namespace, scenario: Scenario) -> None:
    """Refuse, before the race starts, outputs that cannot be written or that would
    overwrite an input of the race or another output."""
    from tui_optim.race.weights import race_slugs, weight_file_stem

    check_output(options.json)
    check_output(options.csv)
    check_output(getattr(options, "weights", None), directory=True)
    outputs = [
        (f"--{name}", path)
        for name in ("json", "csv", "weights")
        if (path := getattr(options, name, None)) is not None
    ]
    if getattr(options, "weights", None) is not None:
        for slug in race_slugs(scenario):
            for repeat in range(scenario.repeats):
                stem = weight_file_stem(slug, scenario.seed + repeat, scenario.repeats)
                weights = options.weights / f"{stem}.npz"
                if weights.is_dir() or (weights.exists() and not weights.is_file()):
                    raise UsageError(f"--weights: {weights} exists and is not a file")
                outputs.append(("--weights", weights))
    inputs: list[Path] = []
    if scenario.source is not None:
        inputs.append(Path(scenario.source))
    if scenario.data is not None and scenario.data.path is not None:
        inputs.append(Path(scenario.data.path))
    if scenario.model is not None and isinstance(scenario.model.init, Path):
        inputs.append(scenario.model.init)
    for index, (option, path) in enumerate(outputs):
        for source in inputs:
            if same_file(path, source):
                raise UsageError(f"{option} {path}: that is an input of the race ({source})")
        for other_option, other in outputs[:index]:
            if same_file(path, other):
                raise UsageError(f"{option} {path}: {other_option} writes there too")


def check_processes(processes: int | None) -> None:
    if processes is not None and not 1 <= processes <= MAX_PROCESSES:
        raise UsageError(f"--processes must be in [1, {MAX_PROCESSES}], got {processes}")


def write_exports(
    record: Any, json_path: Path | None, csv_path: Path | None, sweep: bool = False
) -> list[str]:
    """Write the JSON and CSV asked for (a race's, or with ``sweep`` a sweep's), each on
    its own; the failures, one line each."""
    writers: tuple[Callable[[Any, Path], None], Callable[[Any, Path], None]]
    if sweep:
        from tui_optim.results.sweep import write_sweep_csv, write_sweep_json

        writers = (write_sweep_json, write_sweep_csv)
    else:
        from tui_optim.results.export import write_csv, write_json

        writers = (write_json, write_csv)
    failures = []
    for path, write in zip((json_path, csv_path), writers, strict=True):
        if path is None:
            continue
        try:
            write(record, path)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            failures.append(f"{path}: not written ({reason})")
    return failures


def cluster_request(options: argparse.Namespace) -> ClusterRequest | None:
    """The Dask cluster the options ask for, or None (local processes)."""
    timeout = options.connect_timeout
    if options.scheduler is None and options.workers is None:
        if options.dashboard:
            raise UsageError("--dashboard goes with --workers (a local Dask cluster)")
        if timeout is not None:
            raise UsageError("--connect-timeout goes with --scheduler or --workers")
        return None
    from tui_optim.race.cluster import (
        CONNECT_TIMEOUT,
        INSTALL_HINT,
        ClusterRequest,
        dask_available,
    )

    if not dask_available():
        raise UsageError(f"--scheduler and --workers need Dask: {INSTALL_HINT}")
    try:
        return ClusterRequest(
            options.scheduler,
            options.workers,
            options.dashboard,
            CONNECT_TIMEOUT if timeout is None else timeout,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


class CountProgress:
    """Things done (a sweep's runs, a race's racers), rate and ETA on stderr: a Rich bar on
    a terminal, a line every ~2 s when piped, nothing with --quiet."""

    def __init__(self, title: str, total: int, unit: str, quiet: bool):
        self.title, self.total, self.unit, self.quiet = title, total, unit, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0
        self.rich: Any = None
        self.task: Any = None

    def update(self, done: float, now: bool = False) -> None:
        """Show ``done``; piped, at most a line every ~2 s unless ``now`` (a caller whose
        updates are few: each is worth a line)."""
        if self.quiet:
            return
        if self.tty:
            if self.rich is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeRemainingColumn,
                )

                self.rich = Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn(f"{self.unit}  " + "{task.fields[rate]}"),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                )
                self.rich.start()
                self.task = self.rich.add_task(self.title, total=self.total, rate="")
            self.rich.update(self.task, completed=int(done), rate=self._rate(done))
            return
        clock = time.monotonic()
        if now or clock - self.last_line >= 2.0:
            self.last_line = clock
            print(f"{self.line(done)}", file=sys.stderr, flush=True)

    def _rate(self, done: float) -> str:
        elapsed = time.monotonic() - self.started
        return f"{done / elapsed:,.1f} {self.unit}/s" if elapsed > 0 and done > 0 else ""

    def line(self, done: float) -> str:
        """``"412/1,080 runs  310.2 runs/s  ETA 2s"`` (with the unit ``runs``)."""
        elapsed = time.monotonic() - self.started
        eta = "?"
        if done > 0 and elapsed > 0:
            eta = f"{(self.total - done) * elapsed / done:.0f}s"
        return f"{int(done):,}/{self.total:,} {self.unit}  {self._rate(done)}  ETA {eta}"

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
            self.rich = None
