"""Command line: ``tui-optim [SCENARIO]``, ``run``, ``sweep``, ``list``, ``check``, ``new``,
``serve``, ``replay``.

This module parses the arguments and hands them to the command's module: ``run`` in
:mod:`.run`, ``sweep`` in :mod:`.sweep`, ``list``/``check``/``new`` in
:mod:`.scenario_tools`, ``serve`` in :mod:`.serve`, the app and ``replay`` in :mod:`.app`;
what several commands share (one-line errors, signals, export checks) is in :mod:`.common`.

Importing this package stays light (no Textual, scikit-learn or torch): each command imports
what it needs. Every user error is one line on stderr and exit code 2; a fault (an engine
failure, an export that could not be written) is exit code 1 after writing what can be;
Ctrl+C is 130, SIGTERM 143, SIGHUP 129, each after writing the results so far.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from tui_optim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Interrupted,
    Parser,
    UsageError,
    say,
    stdout_failed,
)
from tui_optim.cli.scenario_tools import LISTS

#: Each command and the module of ``command_<name>``.
COMMANDS = {
    "run": "run",
    "sweep": "sweep",
    "list": "scenario_tools",
    "check": "scenario_tools",
    "new": "scenario_tools",
    "serve": "serve",
    "replay": "app",
}


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
    add_cluster_arguments(parser, "a sweep scenario's blocks of runs")
    return parser


def add_cluster_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--scheduler``, ``--workers``, ``--dashboard`` and ``--connect-timeout``: where
    ``what`` runs when a Dask cluster does the work."""
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help=f"run {what} on this Dask cluster (needs the [dask] extra)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"run {what} on a local Dask cluster of N worker processes (on 127.0.0.1)",
    )
    parser.add_argument(
        "--dashboard", action="store_true", help="with --workers: serve Dask's dashboard"
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        metavar="SECONDS",
        help="with --scheduler or --workers: how long to wait for the scheduler and its "
        "first worker (default 10)",
    )


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
        help="engine processes (default: one per 4 racers, at most one per core); with "
        "--scheduler or --workers: the parts the racers are cut into, each one task "
        "(default: one per 4 racers, at most one per worker)",
    )
    run.add_argument("--quiet", action="store_true", help="print only the leaderboard")
    add_cluster_arguments(run, "the racers, in parts")
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
    add_cluster_arguments(sweep, "the blocks of runs")
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in COMMANDS:
            options = build_command_parsers()[args[0]].parse_args(args[1:])
            code = command(args[0])(options)
        else:
            options = build_parser().parse_args(args)
            code = command("app")(options)
        sys.stdout.flush()
    except UsageError as error:
        say(f"tui-optim: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Interrupted as interrupted:
        return 128 + interrupted.signum
    except OSError as error:
        if not stdout_failed(error):
            raise
        say(f"tui-optim: cannot write to standard output ({error.strerror or error})")
        return 1
    return code


def command(name: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs command ``name`` ("app": open the app)."""
    module = importlib.import_module(f"tui_optim.cli.{COMMANDS.get(name, name)}")
    function: Callable[[argparse.Namespace], int] = getattr(module, f"command_{name}")
    return function
