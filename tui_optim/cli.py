"""Command line: ``tui-optim [SCENARIO]``, ``run``, ``list``, ``check``, ``new``, ``serve``.

Importing this module stays light (no Textual, scikit-learn or torch): each command imports
what it needs. Every user error is one line on stderr and exit code 2; Ctrl+C is 130.
"""

from __future__ import annotations

import argparse
import dataclasses
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
COMMANDS = ("run", "list", "check", "new", "serve")
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
        epilog="Commands: run, list, check, new, serve (`tui-optim COMMAND --help`). "
        "Without a command, SCENARIO (a built-in name or a .toml file) opens in the app.",
    )
    parser.add_argument("scenario", nargs="?", help="built-in scenario name or a .toml file")
    return parser


def build_command_parsers() -> dict[str, argparse.ArgumentParser]:
    run = Parser(prog="tui-optim run", description="Race a scenario without the app.")
    run.add_argument("scenario", help="built-in scenario name or a .toml file")
    run.add_argument("--headless", action="store_true", help="no app (the only mode of run)")
    run.add_argument("--epochs", type=int, help="override the scenario's epochs")
    run.add_argument("--steps", type=int, help="override the scenario's steps")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
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
        choices=("val_loss", "val_accuracy", "loss", "time_to_target"),
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
    return {"run": run, "list": listing, "check": check, "new": new, "serve": serve}


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
            return int(globals()[f"command_{args[0]}"](options) or 0)
        options = build_parser().parse_args(args)
        return command_app(options)
    except UsageError as error:
        print(f"tui-optim: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


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

    return run_app(options.scenario)


def command_check(options: argparse.Namespace) -> int:
    from tui_optim.scenario import ScenarioError, check_scenario

    scenario = load(options.scenario)
    try:
        print(check_scenario(scenario))
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
    from tui_optim.ui.serve import serve

    return int(serve(options.scenario, options.host, options.port) or 0)


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
            from tui_optim.engine.optimizers import OPTIMIZERS

            table.add_column("name", style="bold")
            table.add_column("what it is")
            table.add_column("hyperparameters (defaults)")
            for name, cls in OPTIMIZERS.items():
                hparams = ", ".join(f"{h.name}={h.default}" for h in cls.hparams)
                table.add_row(name, cls.summary, hparams)
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
def _check_output(path: Path | None, directory: bool = False) -> None:
    """Refuse unwritable export targets before the race starts."""
    if path is None:
        return
    parent = path if directory else path.parent
    if directory and path.exists() and not path.is_dir():
        raise UsageError(f"--weights {path}: not a directory")
    if not directory and path.is_dir():
        raise UsageError(f"{path}: is a directory; give a file name")
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not directory and not parent.is_dir():
        raise UsageError(f"{path}: no such directory {parent}")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"{path}: not writable")


def command_run(options: argparse.Namespace) -> int:
    from tui_optim.race.messages import EngineFailed, SaveWeights, Stop, WeightsSaved
    from tui_optim.race.process import RaceProcess
    from tui_optim.results.export import write_csv, write_json
    from tui_optim.results.record import RaceRecord

    # The engine checks data and model itself (EngineFailed.invalid_scenario): checking here
    # too would load scikit-learn twice before the first step.
    scenario = load(options.scenario, check=False)
    changes: dict[str, Any] = {}
    for key in ("epochs", "steps", "seed"):
        value = getattr(options, key)
        if value is not None:
            if value < (0 if key == "seed" else 1):
                raise UsageError(f"--{key} must be {'>= 0' if key == 'seed' else '>= 1'}")
            changes[key] = value
    if options.rank_by is not None:
        changes["rank_by"] = options.rank_by
    if "epochs" in changes:
        changes.setdefault("steps", None)
    elif "steps" in changes:
        changes["epochs"] = None
    scenario = dataclasses.replace(scenario, **changes)
    _check_output(options.json)
    _check_output(options.csv)
    _check_output(options.weights, directory=True)
    if options.processes is not None and options.processes < 1:
        raise UsageError("--processes must be at least 1")
    processes = options.processes or default_processes(scenario, os.cpu_count() or 1)
    record = RaceRecord()
    process = RaceProcess(scenario, processes=processes, snapshot_hz=5.0)
    interrupted = False
    progress = Progress(scenario, quiet=options.quiet)
    process.start()
    try:
        try:
            while not (record.started is not None and record.state == "finished"):
                for message in process.poll(0.1):
                    if isinstance(message, EngineFailed) and message.invalid_scenario:
                        progress.close()
                        raise UsageError(message.message)
                    record.apply(message)
                if record.engine_error is not None:
                    progress.close()
                    print(f"tui-optim: {record.engine_error}", file=sys.stderr)
                    return 1
                progress.update(record)
        except KeyboardInterrupt:
            interrupted = True
            process.send(Stop())
        progress.close()
        if options.weights is not None:
            process.send(SaveWeights(str(options.weights)))
            deadline = time.monotonic() + 30
            saved = False
            while not saved and time.monotonic() < deadline:
                for message in process.poll(0.1):
                    if isinstance(message, WeightsSaved):
                        saved = True
                    else:
                        record.apply(message)
    finally:
        process.close()
    if record.started is not None:
        if options.json is not None:
            write_json(record, options.json)
        if options.csv is not None:
            write_csv(record, options.csv)
        print_leaderboard(record)
    return EXIT_INTERRUPTED if interrupted else 0


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
            print(f"epoch {record.epoch:.1f} step {done}: {self._summary(record)}", flush=True)

    def _summary(self, record: Any) -> str:
        from tui_optim.results.export import leaderboard

        rows = leaderboard(record)[:3]
        return "  ".join(f"{row.name} {row.loss:.3g}" for row in rows if row.loss is not None)

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
            self.rich = None


def print_leaderboard(record: Any) -> None:
    from rich.table import Table

    from tui_optim.results.export import RANK_LABELS, leaderboard, rank_key

    started = record.started
    rows = leaderboard(record)
    key = rank_key(record)
    # Time series: how far ahead each racer predicts says more than the validation loss.
    with_horizon = any(row.horizon is not None for row in rows)
    with_validation = any(row.val_loss is not None for row in rows)
    repeats = max((row.runs for row in rows), default=1)
    title = f"{started.title} (seed {started.seed}, fingerprint {started.fingerprint})"
    table = Table(
        title=f"{title}\nranked by {RANK_LABELS[key]}; losses are final, on the whole set",
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
        cells = [
            "DNF" if row.rank is None else str(row.rank),
            row.name + (f" (x{row.runs})" if row.runs > 1 else ""),
            row.optimizer,
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
