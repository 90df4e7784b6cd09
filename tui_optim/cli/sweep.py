"""``tui-optim sweep``: a learning-rate sweep in this process, in worker processes or on a
Dask cluster, with a progress bar, the table per optimizer and the exports."""

from __future__ import annotations

import argparse
import os
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
from tui_optim.cli.run import run_headless

if TYPE_CHECKING:
    from tui_optim.race.cluster import ClusterRequest
    from tui_optim.scenario import Scenario


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
    check_outputs(options, scenario)
    check_processes(options.processes)
    cluster = cluster_request(options)
    blocks = plan_blocks(scenario.sweep)
    processes = options.processes or default_sweep_processes(
        scenario, len(blocks), os.cpu_count() or 1
    )
    runner = SweepRunner(scenario, blocks, processes, cluster)
    progress = CountProgress(
        printable(scenario.title), scenario.sweep.runs, "runs", quiet=options.quiet
    )
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
        failures += write_exports(record, options.json, options.csv, sweep=True)
        try:
            print_sweep(record)
        except OSError as error:
            stdout_failed(error)
            failures.append(f"cannot print the sweep's table ({error.strerror or error})")
    for failure in failures:
        say(f"tui-optim: {failure}")
    if signals.first is not None:
        say(f"interrupted: {record.done:,} of {record.total:,} runs done")
        return 128 + signals.first
    if failures:
        return 1
    if options.race:
        return race_tuned(record, quiet=options.quiet, cluster=runner.cluster)
    return 0


class SweepRunner:
    """Runs a sweep's blocks here (1 process), in worker processes or on a Dask cluster,
    filling a record."""

    def __init__(
        self,
        scenario: Scenario,
        blocks: list[Any],
        processes: int,
        cluster: ClusterRequest | None = None,
    ):
        from tui_optim.results.sweep import SweepRecord

        self.scenario = scenario
        self.blocks = blocks
        self.processes = processes
        #: Where the blocks go instead of local processes (None: local processes).
        self.cluster = cluster
        self.record = SweepRecord(scenario)
        self.failure: str | None = None
        self.pool: Any = None

    def start(self) -> None:
        """Start the workers (or the cluster) without waiting for them."""
        if self.cluster is not None:
            from tui_optim.race.sweep import ClusterSweep

            self.pool = ClusterSweep(self.scenario, self.blocks, self.cluster)
            self.pool.start()
        elif self.processes > 1:
            from tui_optim.race.sweep import SweepProcesses

            self.pool = SweepProcesses(self.scenario, self.blocks, self.processes)
            self.pool.start()

    def run(self) -> Any:
        """Yields the runs done so far (fractional while blocks are under way); a cluster
        that cannot be used is a UsageError."""
        if self.pool is None:
            yield from self._run_here()
        else:
            yield from self._run_pool()

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
        ready = False
        while finished < len(self.blocks):
            for message in self.pool.poll(0.1):
                if isinstance(message, WorkerReady):
                    self.record.fingerprint = message.fingerprint
                    ready = True
                elif isinstance(message, BlockProgress):
                    if total_steps is None:
                        total_steps = self._steps()
                    partial[message.block] = sizes[message.block] * message.steps / total_steps
                elif isinstance(message, BlockResult):
                    self.record.add(message)
                    partial.pop(message.block, None)
                    finished += 1
                elif isinstance(message, WorkerFailed):
                    if message.unusable:
                        raise UsageError(message.message)
                    self.failure = message.message
                    return
            if ready:  # no progress bar before a cluster that may be unreachable answers
                yield self.record.done + sum(partial.values())

    def _steps(self) -> int:
        from tui_optim.race.race import build_problem
        from tui_optim.race.sweep import total_steps

        problem, _ = build_problem(self.scenario)
        return max(1, total_steps(self.scenario, problem))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


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


def race_tuned(record: Any, quiet: bool, cluster: ClusterRequest | None = None) -> int:
    """Race every optimizer at its tuned learning rate over the sweep's seeds (headless;
    on ``cluster`` when given), then print each one's P(win) from the sweep's paired
    bootstrap."""
    from tui_optim.engine.errors import printable

    scenario = record.tuned_race()
    if not scenario.racers:
        say("no optimizer has a usable learning rate: nothing to race")
        return 0
    options = argparse.Namespace(
        json=None, csv=None, weights=None, processes=None, quiet=quiet, cluster=cluster
    )
    code = run_headless(scenario, options)
    wins = record.comparison()["p_win"]
    if wins:
        print(
            "P(win) at the tuned learning rates (paired bootstrap over the seeds): "
            + ", ".join(f"{printable(name)} {p:.2f}" for name, p in wins.items())
        )
    return code
