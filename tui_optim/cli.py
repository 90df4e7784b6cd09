"""Command line: ``tui-optim [SCENARIO]``, ``run``, ``list``, ``check``, ``new``, ``serve``,
``replay``.

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
COMMANDS = ("run", "list", "check", "new", "serve", "replay")
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
        epilog="Commands: run, list, check, new, serve, replay (`tui-optim COMMAND --help`). "
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
        "list": listing,
        "check": check,
        "new": new,
        "serve": serve,
        "replay": replay,
    }


#: More engine processes than this are never useful (a scenario has at most 64 racers).
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


def load(request: str, check: bool = True) -> Any:
    """The scenario, or a one-line UsageError (``check``: data and model too)."""
    from tui_optim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(request, check=check)
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


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP during a headless run: stop, keep the results so far."""

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
    from tui_optim.race.race import race_slugs, weight_file_stem

    _check_output(options.json)
    _check_output(options.csv)
    _check_output(options.weights, directory=True)
    outputs = [
        (f"--{name}", path)
        for name in ("json", "csv", "weights")
        if (path := getattr(options, name)) is not None
    ]
    if options.weights is not None:
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
    from tui_optim.race.messages import EngineFailed, Stop
    from tui_optim.race.process import RaceProcess
    from tui_optim.results.record import RaceRecord

    # The engine checks data and model itself (EngineFailed.invalid_scenario): checking here
    # too would load scikit-learn twice before the first step.
    from tui_optim.scenario import ScenarioError, with_overrides

    scenario = load(options.scenario, check=False)
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
    if options.processes is not None and not 1 <= options.processes <= MAX_PROCESSES:
        raise UsageError(f"--processes must be in [1, {MAX_PROCESSES}], got {options.processes}")
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


def _write_exports(record: Any, json_path: Path | None, csv_path: Path | None) -> list[str]:
    """Write the JSON and CSV asked for, each on its own; the failures, one line each."""
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
