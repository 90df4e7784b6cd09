"""``tui-optim run``: a headless race in engine processes, with a progress bar, the
leaderboard and the exports."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_optim.cli.common import (
    CountProgress,
    Interrupted,
    StopSignals,
    UsageError,
    check_outputs,
    check_processes,
    cluster_request,
    load,
    print_table,
    say,
    stdout_failed,
    write_exports,
)

if TYPE_CHECKING:
    from tui_optim.race.cluster import ClusterRequest
    from tui_optim.scenario import Scenario


#: Racers per engine process when the command line chooses the number of processes.
RACERS_PER_PROCESS = 4


def default_processes(scenario: Scenario, cores: int) -> int:
    """Engine processes for a headless run: one per RACERS_PER_PROCESS racers, at most one
    per core and one per lockstep group. Results are identical whatever the number (the
    split keeps lockstep groups whole, see :mod:`tui_optim.race.partition`)."""
    from tui_optim.race.partition import group_count

    racers = len(scenario.racers) * max(1, scenario.repeats)
    return max(1, min(cores, racers // RACERS_PER_PROCESS, group_count(scenario)))


#: Seconds the engine gets to answer SaveWeights before the run gives up on the weights.
WEIGHTS_SECONDS = 30.0


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
    check_outputs(options, scenario)
    check_processes(options.processes)
    options.cluster = cluster_request(options)
    if options.cluster is not None and options.weights is not None:
        raise UsageError(
            "--weights goes without --scheduler and --workers (the weights would stay on "
            "the workers)"
        )
    return run_headless(scenario, options)


def run_headless(scenario: Scenario, options: argparse.Namespace) -> int:
    """Race ``scenario`` without the app (``options``: run's json, csv, weights, processes,
    quiet, and ``cluster``, a ClusterRequest or None; outputs already checked); prints the
    leaderboard. 0; 1 after a fault (the results so far written); 128 + the signal when
    stopped by SIGINT, SIGTERM or SIGHUP."""
    cluster = getattr(options, "cluster", None)
    if cluster is not None:
        return run_on_cluster(scenario, options, cluster)
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
                failures += save_weights(process, record, options.weights)
        finally:
            signals.hold()
            process.close()
        if record.engine_error is not None:
            failures.insert(0, record.engine_error)
        report(record, options, failures)
    if signals.first is not None:
        return 128 + signals.first
    return 1 if failures else 0


def run_on_cluster(
    scenario: Scenario, options: argparse.Namespace, cluster: ClusterRequest
) -> int:
    """:func:`run_headless` on a Dask cluster: the racers are cut into parts
    (:mod:`tui_optim.race.parts`), each raced to the end by one task; the leaderboard and
    exports hold the parts finished when the run ends (all of them, unless it was stopped
    or lost its scheduler)."""
    import functools

    from tui_optim.engine.errors import printable
    from tui_optim.race.cluster import ClusterError, DaskPool
    from tui_optim.race.partition import group_count
    from tui_optim.race.parts import RacePart, merged_messages, run_race_part
    from tui_optim.race.process import one_line
    from tui_optim.results.record import RaceRecord
    from tui_optim.scenario import ScenarioError

    racers = len(scenario.racers) * max(1, scenario.repeats)
    parts: dict[int, RacePart] = {}
    progress = CountProgress(printable(scenario.title), racers, "racers", quiet=options.quiet)
    failures: list[str] = []
    pool: DaskPool | None = None
    done = count = 0
    with StopSignals() as signals:
        try:
            try:
                pool = DaskPool(cluster)
            except ClusterError as error:
                raise UsageError(str(error)) from None
            # Parts keep lockstep groups whole, as the engine processes do: the results do
            # not depend on how many there are.
            count = options.processes or default_processes(scenario, pool.thread_count)
            count = min(count, group_count(scenario))
            unit = functools.partial(run_race_part, scenario, count)
            progress.update(0, now=True)
            try:
                for index, part in pool.map_unordered(unit, range(count)):
                    parts[index] = part
                    done += len(part.started.racers)
                    progress.update(done, now=True)
            except Interrupted:
                pass  # the parts finished so far are written below
            except ClusterError as error:
                failures.append(str(error))
            except ScenarioError as error:
                raise UsageError(str(error)) from None
            except Exception as error:
                failures.append(f"engine error: {one_line(error)}")
        finally:
            signals.hold()
            progress.close()
            if pool is not None:
                pool.close()
        record = RaceRecord()
        for message in merged_messages(parts, count):
            record.apply(message)
        report(record, options, failures)
    if signals.first is not None:
        say(f"interrupted: {done:,} of {racers:,} racers done")
        return 128 + signals.first
    return 1 if failures else 0


def _report_rejected(message: Any) -> None:
    """A command the engine refused, on stderr (the headless run sends few commands)."""
    from tui_optim.race.messages import CommandRejected

    if isinstance(message, CommandRejected):
        say(f"tui-optim: {message.command} rejected: {message.message}")


def save_weights(
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
        summary = self._summary(record)
        if summary and now - self.last_line >= 2.0:
            self.last_line = now
            try:
                # a surface race has steps only: there an epoch is a step
                at = "" if record.is_surface else f"epoch {record.epoch:.1f} "
                print(f"{at}step {done}: {summary}", flush=True)
            except OSError:
                self.quiet = True  # stdout is gone (full disk, closed pipe): race on

    def _summary(self, record: Any) -> str:
        """The three leaders with the figure they are ranked by, named ("" before the
        first evaluation)."""
        from tui_optim.engine.errors import printable
        from tui_optim.results.export import leaderboard, rank_key

        key = rank_key(record)
        # ranked by time to the target: until someone gets there, by the training loss
        shown = key if key in ("val_loss", "val_accuracy") else "loss"
        label = {"val_loss": "val loss", "val_accuracy": "val acc", "loss": "loss"}[shown]
        if record.is_surface:
            label = "f"
        leaders = [
            f"{printable(row.name)} {value:.3g}"
            for row in leaderboard(record)[:3]
            if (value := getattr(row, shown)) is not None
        ]
        return f"leaders by {label}: " + "  ".join(leaders) if leaders else ""

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
            self.rich = None


def print_leaderboard(record: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from tui_optim.engine.errors import printable
    from tui_optim.engine.optimizers import flavored
    from tui_optim.results.export import leaderboard, rank_label

    started = record.started
    rows = leaderboard(record)
    # Time series: how far ahead each racer predicts says more than the validation loss.
    with_horizon = any(row.horizon is not None for row in rows)
    with_validation = record.has_validation
    repeats = max((row.runs for row in rows), default=1)
    # Names are the user's text: shown as written (no Rich markup), control characters
    # escaped (an ESC in a racer's name must not reach the terminal).
    title = f"{printable(started.title)} (seed {started.seed}, fingerprint {started.fingerprint})"
    surface = record.is_surface
    what = "f is final, at each racer's point" if surface else "losses are final, on the whole set"
    table = Table(
        title=Text(f"{title}\nranked by {rank_label(record)}; {what}"),
        title_justify="left",
    )
    with_target = record.has_target
    columns = ["#", "racer", "optimizer", "status"]
    columns += ["to target"] if with_target else []
    columns.append("f" if surface else "loss")
    if repeats > 1 and with_target:
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
        cells: list[str | Text] = [
            "DNF" if row.rank is None else str(row.rank),
            Text(printable(row.name) + (f" (x{row.runs})" if row.runs > 1 else "")),
            flavored(row.optimizer, row.flavor),
            row.status,
            *([target] if with_target else []),
            number(row.loss, row.loss_std),
        ]
        if repeats > 1 and with_target:
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


def report(record: Any, options: argparse.Namespace, failures: list[str]) -> None:
    """Write the exports asked for and print the leaderboard of what ``record`` holds (if
    the race started), then say every failure, one line each."""
    if record.started is not None:
        failures += write_exports(record, options.json, options.csv)
        try:
            print_leaderboard(record)
        except OSError as error:
            stdout_failed(error)
            failures.append(f"cannot print the leaderboard ({error.strerror or error})")
    for failure in failures:
        say(f"tui-optim: {failure}")
