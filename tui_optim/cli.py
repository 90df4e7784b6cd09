"""Command line: ``tui-optim [SCENARIO]``, ``run``, ``sweep``, ``list``, ``check``, ``new``,
``serve``, ``replay``.

Importing this module stays light (no Textual, scikit-learn or torch): each command imports
what it needs. Every user error is one line on stderr and exit code 2; a fault (an engine
failure, an export that could not be written) is exit code 1 after writing what can be;
Ctrl+C is 130, SIGTERM 143, SIGHUP 129, each after writing the results so far.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.table import Table

    from tui_optim.scenario import Scenario

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
COMMANDS = ("run", "sweep", "list", "check", "new", "serve", "replay")
LISTS = ("scenarios", "optimizers", "datasets", "surfaces")


class UsageError(Exception):
    """A user error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit 2 like every other user error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tui-optim",
        description="Race neural-network optimizers against each other, live, in the terminal.",
        epilog="Commands: run, sweep, list, check, new, serve, replay "
        "(`tui-optim COMMAND --help`). "
        "Without a command, SCENARIO (a built-in name or a .toml file) opens in the app.",
    )
    parser.add_argument("scenario", nargs="?", help="built-in scenario name or a .toml file")
    parser.add_argument(
        "--paused", action="store_true", help="start the race paused (space starts it)"
    )
    return parser


def build_command_parsers() -> dict[str, argparse.ArgumentParser]:
    run = Parser(prog="tui-optim run", description="Race a scenario without the app.")
    run.add_argument("scenario", help="built-in scenario name or a .toml file")
    run.add_argument("--headless", action="store_true", help="no app (the only mode of run)")
    # Read by the scenario's own options (with_overrides): the file's limits and messages.
    run.add_argument("--epochs", help="override the scenario's epochs")
    run.add_argument("--steps", help="override the scenario's steps")
    run.add_argument("--seed", help="override the scenario's seed")
    run.add_argument("--json", type=Path, help="write the results as JSON")
    run.add_argument("--csv", type=Path, help="write every recorded point as CSV")
    run.add_argument("--weights", type=Path, help="write DIR/<slug>.npz for every racer")
    run.add_argument(
        "--processes",
        type=int,
        help="engine processes (default: one per 4 racers, at most one per core)",
    )
    run.add_argument("--quiet", action="store_true", help="print only the leaderboard")
    run.add_argument(
        "--rank-by",
        help="what the leaderboard ranks by (default: the scenario's rank_by, else the "
        "final validation loss if there is a validation split, else the final training loss)",
    )
    sweep = Parser(
        prog="tui-optim sweep",
        description="Run a [sweep] scenario: every optimizer at every learning rate and seed.",
    )
    sweep.add_argument("scenario", help="built-in sweep name or a .toml file with [sweep]")
    sweep.add_argument("--json", type=Path, help="write points, curves, tuned, comparison")
    sweep.add_argument("--csv", type=Path, help="write one row per run")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--processes",
        type=int,
        help="worker processes (default: one per core for a large sweep, else 1)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the blocks on this Dask cluster (needs the [dask] extra)",
    )
    sweep.add_argument(
        "--workers",
        type=int,
        help="run the blocks on a local Dask cluster of N worker processes (on 127.0.0.1)",
    )
    sweep.add_argument(
        "--dashboard", action="store_true", help="with --workers: serve Dask's dashboard"
    )
    sweep.add_argument(
        "--race",
        action="store_true",
        help="then race every optimizer at its tuned learning rate over the seeds",
    )
    listing = Parser(prog="tui-optim list", description="What tui-optim knows.")
    listing.add_argument("what", nargs="?", choices=LISTS, help="one section (default: all)")
    check = Parser(prog="tui-optim check", description="Validate a scenario.")
    check.add_argument("scenario")
    new = Parser(prog="tui-optim new", description="Write a commented scenario template.")
    new.add_argument("file", type=Path)
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    serve = Parser(prog="tui-optim serve", description="Serve the app in a web browser.")
    serve.add_argument("scenario", nargs="?")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    replay = Parser(
        prog="tui-optim replay",
        description="Replay a finished race from its JSON export: left/right a step, "
        "shift for ten, home/end.",
    )
    replay.add_argument("results", type=Path, help="a JSON export (run --json, or ctrl+e)")
    return {
        "run": run,
        "sweep": sweep,
        "list": listing,
        "check": check,
        "new": new,
        "serve": serve,
        "replay": replay,
    }


#: More engine (or sweep worker) processes than this are never useful (the app's scenarios
#: have at most 64 racers; a sweep's blocks are 128 runs).
MAX_PROCESSES = 64
#: Racers per engine process when the command line chooses the number of processes.
RACERS_PER_PROCESS = 4


def default_processes(scenario: Scenario, cores: int) -> int:
    """Engine processes for a headless run: one per RACERS_PER_PROCESS racers, at most one
    per core. Results are identical whatever the number (the split is by racer, each
    process steps its share in lockstep on the same batches)."""
    racers = len(scenario.racers) * max(1, scenario.repeats)
    return max(1, min(cores, racers // RACERS_PER_PROCESS))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in COMMANDS:
            options = build_command_parsers()[args[0]].parse_args(args[1:])
            code = int(globals()[f"command_{args[0]}"](options) or 0)
        else:
            options = build_parser().parse_args(args)
            code = command_app(options)
        sys.stdout.flush()
    except UsageError as error:
        _say(f"tui-optim: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Interrupted as interrupted:
        return 128 + interrupted.signum
    except OSError as error:
        if not _stdout_failed(error):
            raise
        _say(f"tui-optim: cannot write to standard output ({error.strerror or error})")
        return 1
    return code


def _say(line: str) -> None:
    """One line on stderr (control characters escaped), if stderr is still there (a closed
    terminal, a full disk)."""
    from tui_optim.engine.errors import printable

    with contextlib.suppress(OSError):
        print(printable(line), file=sys.stderr, flush=True)


def _stdout_failed(error: OSError) -> bool:
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


# ------------------------------------------------------------------------------ commands
def command_app(options: argparse.Namespace) -> int:
    if options.scenario is not None:
        from tui_optim.scenario import builtin_scenarios

        if options.scenario not in builtin_scenarios() and not Path(options.scenario).exists():
            load(options.scenario, check=False)  # the one-line "no such scenario" error
    from tui_optim.ui.app import run_app

    return run_app(options.scenario, paused=options.paused)


def command_replay(options: argparse.Namespace) -> int:
    from tui_optim.results.replay import ReplayError, load_record

    try:
        load_record(options.results)  # a bad file is one line here, not a screen
    except ReplayError as error:
        raise UsageError(str(error)) from None
    from tui_optim.ui.app import run_app

    return run_app(replay=options.results)


def command_check(options: argparse.Namespace) -> int:
    from tui_optim.engine.errors import printable
    from tui_optim.scenario import ScenarioError, check_scenario

    scenario = load(options.scenario)
    try:
        print("\n".join(printable(line) for line in check_scenario(scenario).splitlines()))
    except ScenarioError as error:
        raise UsageError(str(error)) from None
    return 0


def command_new(options: argparse.Namespace) -> int:
    from tui_optim.engine.atomic import atomic_write
    from tui_optim.scenario import template

    path: Path = options.file
    if path.exists() and not options.force:
        raise UsageError(f"{path} exists; use --force to overwrite it")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent}: no such directory")
    try:
        with atomic_write(path) as stream:
            stream.write(template())
    except OSError as error:
        raise UsageError(f"{path}: cannot write it ({error.strerror})") from None
    print(f"wrote {path}; check it with `tui-optim check {path}`")
    return 0


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


def print_table(table: Table) -> None:
    """Print a Rich table whole: a file or a pipe has no width, so it gets the table's own
    (Rich would squeeze it into 80 columns and cut numbers to "8.234e-…")."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        unbounded = console.options.update_width(10_000)
        console = Console(width=max(80, console.measure(table, options=unbounded).maximum))
    console.print(table)


def command_list(options: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    sections = [options.what] if options.what else list(LISTS)
    for section in sections:
        table = Table(title=section, title_justify="left", show_lines=False, expand=False)
        if section == "scenarios":
            from tui_optim.scenario import builtin_scenarios, parse_scenario

            table.add_column("name", style="bold")
            table.add_column("title")
            for name, path in builtin_scenarios().items():
                scenario = parse_scenario(path.read_text(encoding="utf-8"), path, name)
                table.add_row(name, scenario.title)
        elif section == "optimizers":
            from tui_optim.engine.optimizers import FLAVORS, registry

            table.add_column("name", style="bold")
            table.add_column("flavor")
            table.add_column("what it is")
            table.add_column("hyperparameters (defaults)")
            # Each name once per flavor that has it, the flavors of one name together.
            names = list(dict.fromkeys(name for flavor in FLAVORS for name in registry(flavor)))
            for name in names:
                for flavor in FLAVORS:
                    cls = registry(flavor).get(name)
                    if cls is not None:
                        hparams = ", ".join(f"{h.name}={h.default}" for h in cls.hparams)
                        # Text, not markup: summaries hold brackets such as E[dx^2].
                        table.add_row(name, flavor, Text(cls.summary), hparams)
        elif section == "datasets":
            from tui_optim.engine.data import DATASETS

            table.add_column("name", style="bold")
            table.add_column("task")
            table.add_column("what it is")
            table.add_column("options (defaults)")
            for name, info in DATASETS.items():
                opts = ", ".join(f"{o.name}={o.default}" for o in info.options)
                table.add_row(name, info.task, info.summary, opts)
        else:
            from tui_optim.engine.surfaces import SURFACES

            table.add_column("name", style="bold")
            table.add_column("what it is")
            table.add_column("f(w0, w1)")
            for name, surface in SURFACES.items():
                table.add_row(name, surface.summary, surface.formula)
        print_table(table)
    return 0


# ------------------------------------------------------------------------------ run
#: Seconds the engine gets to answer SaveWeights before the run gives up on the weights.
WEIGHTS_SECONDS = 30.0
#: Longest file name (bytes) the common file systems take.
NAME_MAX = 255


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


def _check_output(path: Path | None, directory: bool = False) -> None:
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


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _check_outputs(options: argparse.Namespace, scenario: Scenario) -> None:
    """Refuse, before the race starts, outputs that cannot be written or that would
    overwrite an input of the race or another output."""
    from tui_optim.race.weights import race_slugs, weight_file_stem

    _check_output(options.json)
    _check_output(options.csv)
    _check_output(getattr(options, "weights", None), directory=True)
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
            if _same_file(path, source):
                raise UsageError(f"{option} {path}: that is an input of the race ({source})")
        for other_option, other in outputs[:index]:
            if _same_file(path, other):
                raise UsageError(f"{option} {path}: {other_option} writes there too")


def command_run(options: argparse.Namespace) -> int:
    # The engine checks data and model itself (EngineFailed.invalid_scenario): checking here
    # too would load scikit-learn twice before the first step. Headless: no racer cap.
    from tui_optim.scenario import ScenarioError, with_overrides

    scenario = load(options.scenario, check=False, capped=False)
    if scenario.sweep is not None:
        raise UsageError(
            f"{options.scenario} is a sweep; run it with `tui-optim sweep {options.scenario}`"
        )
    try:
        scenario = with_overrides(
            scenario,
            epochs=options.epochs,
            steps=options.steps,
            seed=options.seed,
            rank_by=options.rank_by,
        )
    except ScenarioError as error:
        raise UsageError(str(error)) from None
    _check_outputs(options, scenario)
    _check_processes(options.processes)
    return run_headless(scenario, options)


def _check_processes(processes: int | None) -> None:
    if processes is not None and not 1 <= processes <= MAX_PROCESSES:
        raise UsageError(f"--processes must be in [1, {MAX_PROCESSES}], got {processes}")


def run_headless(scenario: Scenario, options: argparse.Namespace) -> int:
    """Race ``scenario`` without the app (``options``: run's json, csv, weights, processes,
    quiet; outputs already checked); prints the leaderboard. 0; 1 after a fault (the
    results so far written); 128 + the signal when stopped by SIGINT, SIGTERM or SIGHUP."""
    from tui_optim.race.messages import EngineFailed, Stop
    from tui_optim.race.process import RaceProcess
    from tui_optim.results.record import RaceRecord

    processes = options.processes or default_processes(scenario, os.cpu_count() or 1)
    record = RaceRecord()
    process = RaceProcess(scenario, processes=processes, snapshot_hz=5.0)
    progress = Progress(scenario, quiet=options.quiet)
    failures: list[str] = []
    with StopSignals() as signals:
        try:
            process.start()
            try:
                while not (record.started is not None and record.state == "finished"):
                    for message in process.poll(0.1):
                        if isinstance(message, EngineFailed) and message.invalid_scenario:
                            progress.close()
                            raise UsageError(message.message)
                        record.apply(message)
                        _report_rejected(message)
                    if record.engine_error is not None:
                        break
                    progress.update(record)
            except Interrupted:
                # Stop the engine where it is; what it recorded so far is written below.
                with contextlib.suppress(OSError, ValueError):
                    process.send(Stop())
            signals.hold()
            progress.close()
            if options.weights is not None:
                failures += _save_weights(process, record, options.weights)
        finally:
            signals.hold()
            process.close()
        if record.engine_error is not None:
            failures.insert(0, record.engine_error)
        if record.started is not None:
            failures += _write_exports(record, options.json, options.csv)
            try:
                print_leaderboard(record)
            except OSError as error:
                _stdout_failed(error)
                failures.append(f"cannot print the leaderboard ({error.strerror or error})")
    for failure in failures:
        _say(f"tui-optim: {failure}")
    if signals.first is not None:
        return 128 + signals.first
    return 1 if failures else 0


def _report_rejected(message: Any) -> None:
    """A command the engine refused, on stderr (the headless run sends few commands)."""
    from tui_optim.race.messages import CommandRejected

    if isinstance(message, CommandRejected):
        _say(f"tui-optim: {message.command} rejected: {message.message}")


def _save_weights(
    process: Any, record: Any, directory: Path, timeout: float = WEIGHTS_SECONDS
) -> list[str]:
    """Ask the engine for every racer's weights in ``directory``, waiting at most
    ``timeout`` seconds; the failures, one line each (none when every file was written)."""
    from tui_optim.race.messages import CommandRejected, EngineFailed, SaveWeights, WeightsSaved

    if record.engine_error is not None or not process.alive:
        return [f"--weights {directory}: not written, the engine stopped"]
    try:
        process.send(SaveWeights(str(directory)))
    except (OSError, ValueError) as error:
        return [f"--weights {directory}: not written ({error})"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            messages = process.poll(0.1)
        except (EOFError, OSError):
            return [f"--weights {directory}: not written, the engine stopped"]
        for message in messages:
            if isinstance(message, WeightsSaved):
                return []
            if isinstance(message, CommandRejected) and message.command == "SaveWeights":
                return [f"--weights {directory}: not written ({message.message})"]
            record.apply(message)
            if isinstance(message, EngineFailed):
                return [f"--weights {directory}: not written, the engine stopped"]
    return [f"--weights {directory}: not written, the engine did not answer in {timeout:g} s"]


def _write_exports(
    record: Any, json_path: Path | None, csv_path: Path | None, sweep: bool = False
) -> list[str]:
    """Write the JSON and CSV asked for (a race's, or with ``sweep`` a sweep's), each on
    its own; the failures, one line each."""
    if sweep:
        from tui_optim.results.sweep import write_sweep_csv as write_csv
        from tui_optim.results.sweep import write_sweep_json as write_json
    else:
        from tui_optim.results.export import write_csv, write_json

    failures = []
    for path, write in ((json_path, write_json), (csv_path, write_csv)):
        if path is None:
            continue
        try:
            write(record, path)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            failures.append(f"{path}: not written ({reason})")
    return failures


class Progress:
    """Live progress: a Rich bar on a terminal, a plain line every ~2 s when piped."""

    def __init__(self, scenario: Any, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stdout.isatty()
        self.last_line = 0.0
        self.rich: Any = None
        self.task: Any = None
        self.title = scenario.title

    def update(self, record: Any) -> None:
        if self.quiet or record.started is None:
            return
        total = record.total_steps
        done = record.step
        if self.tty:
            if self.rich is None:
                from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

                self.rich = Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(),
                )
                self.rich.start()
                self.task = self.rich.add_task(self.title, total=total or None, info="")
            self.rich.update(self.task, completed=done, info=self._summary(record))
            return
        now = time.monotonic()
        if now - self.last_line >= 2.0:
            self.last_line = now
            try:
                print(f"epoch {record.epoch:.1f} step {done}: {self._summary(record)}", flush=True)
            except OSError:
                self.quiet = True  # stdout is gone (full disk, closed pipe): race on

    def _summary(self, record: Any) -> str:
        from tui_optim.engine.errors import printable
        from tui_optim.results.export import leaderboard

        rows = leaderboard(record)[:3]
        return "  ".join(
            f"{printable(row.name)} {row.loss:.3g}" for row in rows if row.loss is not None
        )

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
            self.rich = None


def print_leaderboard(record: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from tui_optim.engine.errors import printable
    from tui_optim.engine.optimizers import flavored
    from tui_optim.results.export import RANK_LABELS, leaderboard, rank_key

    started = record.started
    rows = leaderboard(record)
    key = rank_key(record)
    # Time series: how far ahead each racer predicts says more than the validation loss.
    with_horizon = any(row.horizon is not None for row in rows)
    with_validation = any(row.val_loss is not None for row in rows)
    repeats = max((row.runs for row in rows), default=1)
    # Names are the user's text: shown as written (no Rich markup), control characters
    # escaped (an ESC in a racer's name must not reach the terminal).
    title = f"{printable(started.title)} (seed {started.seed}, fingerprint {started.fingerprint})"
    table = Table(
        title=Text(f"{title}\nranked by {RANK_LABELS[key]}; losses are final, on the whole set"),
        title_justify="left",
    )
    columns = ["#", "racer", "optimizer", "status", "to target", "loss"]
    if repeats > 1:
        columns.append("reached")
    if with_validation:
        columns += ["val loss", "val acc"]
    if with_horizon:
        columns.append("horizon (steps)")
    for column in columns:
        words = column in ("racer", "optimizer", "status", "to target")
        # A terminal too narrow for the table wraps the wordy columns, never a number.
        table.add_column(column, justify="left" if words else "right", no_wrap=not words)

    def number(value: float | None, spread: float | None = None) -> str:
        if value is None:
            return "-"
        return f"{value:.4g}" + (f" ± {spread:.2g}" if spread is not None else "")

    for row in rows:
        target = "-"
        if row.steps_to_target is not None:
            target = f"{row.steps_to_target:.0f} steps / {row.epochs_to_target:.3g} ep"
            if not row.target_exact:  # the first evaluation at or below the target
                target = "≤" + target
            if row.grad_evals_to_target not in (None, row.steps_to_target):
                target += f" / {row.grad_evals_to_target:.0f} grad evals"
        cells = [
            "DNF" if row.rank is None else str(row.rank),
            Text(printable(row.name) + (f" (x{row.runs})" if row.runs > 1 else "")),
            flavored(row.optimizer, row.flavor),
            row.status,
            target,
            number(row.loss, row.loss_std),
        ]
        if repeats > 1:
            cells.append(f"{row.reached_target}/{row.runs}")
        if with_validation:
            accuracy = "-"
            if row.val_accuracy is not None:
                accuracy = f"{row.val_accuracy:.1%}"
                if row.val_accuracy_std is not None:
                    accuracy += f" ± {row.val_accuracy_std:.1%}"
            cells += [number(row.val_loss, row.val_loss_std), accuracy]
        if with_horizon:
            cells.append(number(row.horizon, row.horizon_std))
        table.add_row(*cells)
    print_table(table)


# ------------------------------------------------------------------------------ sweep
#: Work (runs x epochs, or steps, x parameters per run) from which a sweep spreads over
#: processes by default: iris_sweep is 7.2 million, digits_sweep 20 million, peaks_sweep 1,100.
SWEEP_PARALLEL_WORK = 1_000_000


def default_sweep_processes(scenario: Scenario, blocks: int, cores: int) -> int:
    """One process per core (at most one per block) for a large sweep, else 1: starting a
    worker costs about a second of imports, which a small sweep would not win back."""
    assert scenario.sweep is not None
    length = scenario.epochs or scenario.steps or 1
    if scenario.model is not None:
        import itertools

        params = sum(a * b + b for a, b in itertools.pairwise(scenario.model.layers))
    else:
        params = 2
    if scenario.sweep.runs * length * params < SWEEP_PARALLEL_WORK:
        return 1
    return max(1, min(cores, blocks))


def command_sweep(options: argparse.Namespace) -> int:
    from tui_optim.engine.errors import printable
    from tui_optim.race.sweep import plan_blocks
    from tui_optim.scenario import ScenarioError, check_scenario

    scenario = load(options.scenario, check=False)
    if scenario.sweep is None:
        raise UsageError(
            f"{options.scenario}: no [sweep] table; `tui-optim run {options.scenario}` races it"
        )
    _check_outputs(options, scenario)
    _check_processes(options.processes)
    cluster = _cluster_request(options)
    blocks = plan_blocks(scenario.sweep)
    processes = options.processes or default_sweep_processes(
        scenario, len(blocks), os.cpu_count() or 1
    )
    runner = SweepRunner(scenario, blocks, processes, cluster)
    progress = SweepProgress(printable(scenario.title), scenario.sweep.runs, quiet=options.quiet)
    failures: list[str] = []
    with StopSignals() as signals:
        try:
            runner.start()  # workers import and load while this process checks the scenario
            try:
                check_scenario(scenario)
            except ScenarioError as error:
                raise UsageError(str(error)) from None
            try:
                for done in runner.run():
                    progress.update(done)
            except Interrupted:
                pass  # the runs finished so far are written below
        finally:
            signals.hold()
            progress.close()
            runner.close()
        if runner.failure is not None:
            failures.append(runner.failure)
        record = runner.record
        failures += _write_exports(record, options.json, options.csv, sweep=True)
        try:
            print_sweep(record)
        except OSError as error:
            _stdout_failed(error)
            failures.append(f"cannot print the sweep's table ({error.strerror or error})")
    for failure in failures:
        _say(f"tui-optim: {failure}")
    if signals.first is not None:
        _say(f"interrupted: {record.done:,} of {record.total:,} runs done")
        return 128 + signals.first
    if failures:
        return 1
    if options.race:
        return race_tuned(record, quiet=options.quiet)
    return 0


class SweepRunner:
    """Runs a sweep's blocks here (1 process) or in worker processes, filling a record."""

    def __init__(
        self, scenario: Scenario, blocks: list[Any], processes: int, cluster: Any = None
    ):
        from tui_optim.results.sweep import SweepRecord

        self.scenario = scenario
        self.blocks = blocks
        self.processes = processes
        #: A ClusterRequest: the blocks go to Dask instead of local processes.
        self.cluster = cluster
        self.record = SweepRecord(scenario)
        self.failure: str | None = None
        self.pool: Any = None
        self.dask: Any = None

    def start(self) -> None:
        if self.cluster is not None:
            from tui_optim.race.cluster import ClusterError, DaskPool

            try:
                self.dask = DaskPool(self.cluster)
            except ClusterError as error:
                raise UsageError(str(error)) from None
        elif self.processes > 1:
            from tui_optim.race.sweep import SweepProcesses

            self.pool = SweepProcesses(self.scenario, self.blocks, self.processes)
            self.pool.start()

    def run(self) -> Any:
        """Yields the runs done so far (fractional while blocks are under way)."""
        if self.dask is not None:
            yield from self._run_dask()
        elif self.pool is None:
            yield from self._run_here()
        else:
            yield from self._run_pool()

    def _run_dask(self) -> Any:
        """Each block is one Dask task; results stream back as tasks finish."""
        import functools

        from tui_optim.race.cluster import ClusterError
        from tui_optim.race.race import build_problem
        from tui_optim.race.sweep import fingerprint, run_block

        problem, _ = build_problem(self.scenario)
        self.record.fingerprint = fingerprint(self.scenario, problem)
        try:
            unit = functools.partial(run_block, self.scenario)
            for _, result in self.dask.map_unordered(unit, self.blocks):
                self.record.add(result)
                yield self.record.done
        except ClusterError as error:
            self.failure = str(error)

    def _run_here(self) -> Any:
        from tui_optim.race.race import build_problem
        from tui_optim.race.sweep import fingerprint, run_block, total_steps

        problem, _ = build_problem(self.scenario)
        self.record.fingerprint = fingerprint(self.scenario, problem)
        steps = max(1, total_steps(self.scenario, problem))
        finished = 0
        progress: list[float] = []
        for block in self.blocks:
            size = len(block.runs)

            def report(done: int, size: int = size, before: int = finished) -> None:
                progress.append(before + size * done / steps)

            result = run_block(self.scenario, block, problem, report)
            self.record.add(result)
            finished += size
            yield from progress
            progress.clear()
            yield finished

    def _run_pool(self) -> Any:
        from tui_optim.race.sweep import BlockProgress, BlockResult, WorkerFailed, WorkerReady

        sizes = {block.number: len(block.runs) for block in self.blocks}
        partial: dict[int, float] = {}
        finished = 0
        total_steps: int | None = None
        while finished < len(self.blocks):
            for message in self.pool.poll(0.1):
                if isinstance(message, WorkerReady):
                    self.record.fingerprint = message.fingerprint
                elif isinstance(message, BlockProgress):
                    if total_steps is None:
                        total_steps = self._steps()
                    partial[message.block] = sizes[message.block] * message.steps / total_steps
                elif isinstance(message, BlockResult):
                    self.record.add(message)
                    partial.pop(message.block, None)
                    finished += 1
                elif isinstance(message, WorkerFailed):
                    self.failure = message.message
                    return
            yield self.record.done + sum(partial.values())

    def _steps(self) -> int:
        from tui_optim.race.race import build_problem
        from tui_optim.race.sweep import total_steps

        problem, _ = build_problem(self.scenario)
        return max(1, total_steps(self.scenario, problem))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.dask is not None:
            self.dask.close()


def _cluster_request(options: argparse.Namespace) -> Any:
    """The Dask cluster the options ask for, or None (local processes)."""
    if options.scheduler is None and options.workers is None:
        if options.dashboard:
            raise UsageError("--dashboard goes with --workers (a local Dask cluster)")
        return None
    from tui_optim.race.cluster import INSTALL_HINT, ClusterRequest, dask_available

    if not dask_available():
        raise UsageError(f"--scheduler and --workers need Dask: {INSTALL_HINT}")
    try:
        return ClusterRequest(options.scheduler, options.workers, options.dashboard)
    except ValueError as error:
        raise UsageError(str(error)) from None


class SweepProgress:
    """Runs done, rate and ETA on stderr: a Rich bar on a terminal, a line every ~2 s when
    piped, nothing with --quiet."""

    def __init__(self, title: str, total: int, quiet: bool):
        self.title, self.total, self.quiet = title, total, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0
        self.rich: Any = None
        self.task: Any = None

    def update(self, done: float) -> None:
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
                    TextColumn("runs  {task.fields[rate]}"),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                )
                self.rich.start()
                self.task = self.rich.add_task(self.title, total=self.total, rate="")
            self.rich.update(self.task, completed=int(done), rate=self._rate(done))
            return
        now = time.monotonic()
        if now - self.last_line >= 2.0:
            self.last_line = now
            print(f"{self.line(done)}", file=sys.stderr, flush=True)

    def _rate(self, done: float) -> str:
        elapsed = time.monotonic() - self.started
        return f"{done / elapsed:,.1f} runs/s" if elapsed > 0 and done > 0 else ""

    def line(self, done: float) -> str:
        """``"412/1,080 runs  310.2 runs/s  ETA 2s"``."""
        elapsed = time.monotonic() - self.started
        eta = "?"
        if done > 0 and elapsed > 0:
            eta = f"{(self.total - done) * elapsed / done:.0f}s"
        return f"{int(done):,}/{self.total:,} runs  {self._rate(done)}  ETA {eta}"

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
            self.rich = None


def print_sweep(record: Any) -> None:
    """The table per optimizer, then the verdict. Names and the title are Text (no Rich
    markup), their control characters escaped, as in the leaderboard."""
    from rich.table import Table
    from rich.text import Text

    from tui_optim.engine.errors import printable

    spec = record.spec
    scenario = record.scenario
    direction = "higher is better" if spec.higher_is_better else "lower is better"
    table = Table(
        title=Text(
            f"{printable(scenario.title)} (seed {scenario.seed}, fingerprint "
            f"{record.fingerprint}): {spec.metric}, {direction}; "
            f"{record.done:,}/{record.total:,} runs"
        ),
        title_justify="left",
    )
    for column in ("optimizer", "tuned lr", spec.metric, "IQR", "width (decades)", "diverged"):
        words = column == "optimizer"
        table.add_column(column, justify="left" if words else "right", no_wrap=not words)
    per_entry = len(spec.lrs) * spec.seeds
    for entry in range(len(spec.entries)):
        tuned = record.tuned(entry)
        if tuned.lr is None:
            table.add_row(
                Text(printable(tuned.name)), "-", "-", "-", "-", f"{tuned.diverged}/{per_entry}"
            )
            continue
        spread = tuned.spread
        table.add_row(
            Text(printable(tuned.name)),
            f"{tuned.lr:.3g}",
            _metric_text(spread.median, spec.metric),
            f"{_metric_text(spread.q25, spec.metric)} .. {_metric_text(spread.q75, spec.metric)}",
            "-" if tuned.width_decades is None else f"{tuned.width_decades:.2f}",
            f"{tuned.diverged}/{per_entry}",
        )
    print_table(table)
    print(printable(record.comparison()["verdict"]))


def _metric_text(value: float, metric: str) -> str:
    import math

    if not math.isfinite(value):
        return "never" if metric == "steps_to_target" else "diverged"
    if metric == "val_accuracy":
        return f"{value:.1%}"
    if metric == "steps_to_target":
        return f"{value:.0f}"
    return f"{value:.4g}"


def race_tuned(record: Any, quiet: bool) -> int:
    """Race every optimizer at its tuned learning rate over the sweep's seeds (headless),
    then print each one's P(win) from the sweep's paired bootstrap."""
    from tui_optim.engine.errors import printable

    scenario = record.tuned_race()
    if not scenario.racers:
        _say("no optimizer has a usable learning rate: nothing to race")
        return 0
    options = argparse.Namespace(json=None, csv=None, weights=None, processes=None, quiet=quiet)
    code = run_headless(scenario, options)
    wins = record.comparison()["p_win"]
    if wins:
        print(
            "P(win) at the tuned learning rates (paired bootstrap over the seeds): "
            + ", ".join(f"{printable(name)} {p:.2f}" for name, p in wins.items())
        )
    return code
