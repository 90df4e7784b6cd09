"""Learning-rate sweeps: thousands of small runs, stepped in lockstep blocks.

The unit of work is a :class:`SweepBlock`: runs of one seed (so one batch order and one set
of initial weights) that :func:`run_block` steps together as one
:class:`~tui_optim.race.race.Group`, and whose :class:`BlockResult` holds everything kept of
them: per run a :class:`RunSummary` (final, best and validation figures, status) and a
training-loss curve downsampled to at most :data:`CURVE_POINTS` points. A block and its
result are plain picklable data, so any worker that has the scenario can run any block.

The blocks depend on the sweep alone, never on how many processes run them, so the results
are bit-identical with 1 or N processes (a run's figures agree to rounding, not always to
the last bit, when it shares a block with other runs). :class:`SweepProcesses` hands blocks
to local worker processes (``python -m tui_optim.race.sweep FD``); :func:`run_blocks` runs
them here.

Memory is bounded by the block size: a worker holds one block's parameters and optimizer
state; the parent keeps only summaries and curves (about 0.4 KB a run).
"""

from __future__ import annotations

import hashlib
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from tui_optim.engine.data import BatchSchedule
from tui_optim.engine.problems import Problem
from tui_optim.race.child import parent_pipe, spawn_child, stop_children
from tui_optim.race.diagnosis import HealthMonitor, HealthSettings
from tui_optim.race.group import Group
from tui_optim.race.messages import RacerSpec
from tui_optim.race.process import ONE_BLAS_THREAD, one_line
from tui_optim.race.race import build_problem
from tui_optim.race.recorder import Racer
from tui_optim.scenario import Scenario

# BLOCK_RUNS, the most runs stepped together, is declared with the sweep's table (the
# memory budget is checked for one block): larger blocks amortise each step's fixed cost
# over more runs; smaller ones spread better over processes and bound a worker's memory.
from tui_optim.scenario.sweep import BLOCK_RUNS, SweepSpec, with_lr

#: Points kept of each run's training-loss curve (the mean loss between two points).
CURVE_POINTS = 64
#: An epoch-mean loss above its best times this (and above 10 x its first) is diverged.
DIVERGE_FACTOR = HealthSettings().diverge_factor
#: A worker reports a block's progress at most this often.
PROGRESS_SECONDS = 0.1
#: Seconds close() waits for a worker before killing it.
JOIN_SECONDS = 2.0

Status = str  # "finished" | "diverged" | "error"


@dataclass(frozen=True)
class SweepRun:
    """One run: entry ``entry`` at learning rate ``lrs[lr_index]`` from seed ``seed_index``.

    ``index`` is its place in the sweep's run order (entry, then learning rate, then seed).
    """

    index: int
    entry: int
    lr_index: int
    seed_index: int


@dataclass(frozen=True)
class SweepBlock:
    """The unit of work: runs of one seed, stepped in lockstep by :func:`run_block`."""

    number: int
    seed_index: int
    runs: tuple[SweepRun, ...]


@dataclass(frozen=True)
class RunSummary:
    """What a sweep keeps of one run."""

    index: int
    status: Status
    reason: str
    steps: int  # steps taken (where it diverged, or the whole run)
    final_loss: float  # training loss of the final weights on the whole training set
    best_loss: float  # lowest epoch-mean training loss
    val_loss: float | None
    val_accuracy: float | None
    steps_to_target: int | None  # first epoch end whose mean loss was <= target_loss
    curve: np.ndarray  # (CURVE_POINTS or fewer,) float32 mean training loss; NaN after a fault


@dataclass(frozen=True)
class BlockResult:
    block: int
    summaries: tuple[RunSummary, ...]


def run_index(spec: SweepSpec, entry: int, lr_index: int, seed_index: int) -> int:
    return (entry * len(spec.lrs) + lr_index) * spec.seeds + seed_index


def plan_blocks(spec: SweepSpec, block_runs: int = BLOCK_RUNS) -> list[SweepBlock]:
    """The sweep's blocks: per seed, its runs in even chunks of at most ``block_runs``."""
    blocks: list[SweepBlock] = []
    per_seed = len(spec.entries) * len(spec.lrs)
    chunks = max(1, -(-per_seed // block_runs))
    for seed_index in range(spec.seeds):
        runs = [
            SweepRun(run_index(spec, entry, lr, seed_index), entry, lr, seed_index)
            for entry in range(len(spec.entries))
            for lr in range(len(spec.lrs))
        ]
        for chunk in range(chunks):
            part = runs[chunk * len(runs) // chunks : (chunk + 1) * len(runs) // chunks]
            blocks.append(SweepBlock(len(blocks), seed_index, tuple(part)))
    return blocks


def total_steps(scenario: Scenario, problem: Problem) -> int:
    if scenario.steps is not None:
        return scenario.steps
    schedule = BatchSchedule(problem.n_train, scenario.batch_size, scenario.shuffle, 0)
    return int(scenario.epochs or 0) * max(1, schedule.steps_per_epoch)


def curve_ends(steps: int) -> np.ndarray:
    """The steps (1-based) that end a curve point: at most CURVE_POINTS, evenly spread,
    the last one the final step."""
    points = min(CURVE_POINTS, steps)
    return np.unique(np.ceil(np.arange(1, points + 1) * steps / points).astype(np.int64))


def seed_of(scenario: Scenario, seed_index: int) -> int:
    return scenario.seed + seed_index


def fingerprint(scenario: Scenario, problem: Problem) -> str:
    """Hash of the data, each seed's initial weights and first epoch's batches."""
    assert scenario.sweep is not None
    digest = hashlib.sha256()
    data = getattr(problem, "data", None)
    if data is not None:
        digest.update(np.ascontiguousarray(data.X_train).tobytes())
        digest.update(np.ascontiguousarray(data.Y_train).tobytes())
    for seed_index in range(scenario.sweep.seeds):
        seed = seed_of(scenario, seed_index)
        digest.update(np.asarray(problem.initial_params(seed)).tobytes())
        schedule = BatchSchedule(problem.n_train, scenario.batch_size, scenario.shuffle, seed)
        for batch in schedule.epoch(0):
            digest.update(b"all" if batch is None else np.asarray(batch).tobytes())
    return digest.hexdigest()[:10]


def run_block(
    scenario: Scenario,
    block: SweepBlock,
    problem: Problem | None = None,
    progress: Callable[[int], None] | None = None,
) -> BlockResult:
    """Train every run of ``block`` to the end, in lockstep; its summaries and curves.

    ``problem`` is the scenario's (built when not given; pass it to reuse it over blocks).
    ``progress(steps_done)`` is called now and then. A run whose loss becomes NaN or inf
    leaves the block ("diverged"); an optimizer that raises ends its runs ("error").
    """
    spec = scenario.sweep
    assert spec is not None
    if problem is None:
        problem, _ = build_problem(scenario)
    seed = seed_of(scenario, block.seed_index)
    batch_size = None if problem.n_train == 1 else scenario.batch_size
    schedule = BatchSchedule(problem.n_train, batch_size, scenario.shuffle, seed)
    steps = total_steps(scenario, problem)
    group = Group(problem, schedule, steps, seed, batch_size)
    start = np.asarray(problem.initial_params(seed), dtype=problem.dtype).reshape(-1)
    entries = []
    for position, run in enumerate(block.runs):
        entry = spec.entries[run.entry]
        hparams = with_lr(entry, spec.lrs[run.lr_index])  # a wrapper's: inner.lr
        racer_spec = RacerSpec(
            position, entry.name, "", entry.optimizer, hparams, "#000000", flavor=entry.flavor
        )
        # A sweep judges runs by their figures, not by badges: the monitor is never fed.
        racer = Racer(racer_spec, hparams, None, None, HealthMonitor(None))
        entries.append((racer, {"params": start.copy()}))
    group.rebuild(entries)
    return _train(scenario, block, group, steps, progress)


def _train(
    scenario: Scenario,
    block: SweepBlock,
    group: Group,
    steps: int,
    progress: Callable[[int], None] | None,
) -> BlockResult:
    problem = group.problem
    count = len(block.runs)
    ends = curve_ends(steps)
    curves = np.full((count, len(ends)), np.nan, dtype=np.float32)
    best = np.full(count, math.inf)
    initial = np.full(count, math.inf)
    to_target: list[int | None] = [None] * count
    faults: dict[int, tuple[Status, str, int]] = {}
    target = scenario.target_loss
    rows = np.array([racer.id for racer in group.racers])  # block position of each row
    # Mini-batch losses of the epoch under way, per block position.
    epoch_sum = np.zeros(count)
    epoch_steps = 0
    next_end = 0
    last_report = time.monotonic()
    with np.errstate(all="ignore"):
        while group.step < steps and group.racers:
            try:
                losses = group.step_once(record=False)
            except Exception as error:
                message = f"{type(error).__name__}: {error}".splitlines()[0]
                for position in rows:
                    faults[int(position)] = ("error", message, group.step)
                break
            epoch_sum[rows] += losses
            epoch_steps += 1
            if not math.isfinite(float(losses.sum())):
                bad = ~np.isfinite(losses)
                reason = f"diverged at step {group.step}: the loss became NaN or inf"
                rows = _drop(group, rows, bad, faults, reason)
                if not group.racers:
                    break
            if group.position == 0:  # an epoch ended
                mean = epoch_sum[rows] / epoch_steps
                epoch_sum[:] = 0.0
                epoch_steps = 0
                if group.step == group.steps_per_epoch:
                    initial[rows] = mean
                # The race's rule: far above its best and its start is diverged for good.
                blown = (
                    (best[rows] > 0)
                    & (mean > best[rows] * DIVERGE_FACTOR)
                    & (mean > 10 * initial[rows])
                )
                np.minimum.at(best, rows, mean)
                if target is not None:
                    for position, value in zip(rows, mean, strict=True):
                        if value <= target and to_target[position] is None:
                            to_target[position] = group.step
                if blown.any():
                    reason = (
                        f"diverged at step {group.step}: the loss rose past "
                        f"{DIVERGE_FACTOR:g} times its best"
                    )
                    rows = _drop(group, rows, blown, faults, reason)
                    if not group.racers:
                        break
            if group.step == ends[next_end]:
                curves[rows, next_end] = group.loss_sum / group.loss_count
                group.loss_sum[:] = 0.0
                group.loss_count = 0
                next_end += 1
            if progress is not None and time.monotonic() - last_report >= PROGRESS_SECONDS:
                last_report = time.monotonic()
                progress(group.step)
        final = val = None
        if group.racers:
            # Where each optimizer evaluates (schedule-free: not its raw parameters).
            params = group.evaluation_params()
            final = problem.evaluate(params, "train").loss
            if problem.has_validation:
                val = problem.evaluate(params, "val")
    summaries: list[RunSummary | None] = [None] * count
    live = {int(position): row for row, position in enumerate(rows)} if group.racers else {}
    for position, run in enumerate(block.runs):
        if position in live and position not in faults:
            row = live[position]
            final_loss = float(final[row]) if final is not None else math.nan
            status, reason, taken = "finished", "", steps
            if not math.isfinite(final_loss):
                status, reason = "diverged", "the final loss is NaN or inf"
            val_loss = val_accuracy = None
            if val is not None:
                val_loss = float(val.loss[row])
                if val.accuracy is not None:
                    val_accuracy = float(val.accuracy[row])
        else:
            status, reason, taken = faults[position]
            final_loss, val_loss, val_accuracy = math.nan, None, None
        summaries[position] = RunSummary(
            index=run.index,
            status=status,
            reason=reason,
            steps=taken,
            final_loss=final_loss,
            best_loss=float(best[position]),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            steps_to_target=to_target[position],
            curve=curves[position],
        )
    if progress is not None:
        progress(steps)
    return BlockResult(block.number, tuple(s for s in summaries if s is not None))


def _drop(
    group: Group,
    rows: np.ndarray,
    mask: np.ndarray,
    faults: dict[int, tuple[Status, str, int]],
    reason: str,
) -> np.ndarray:
    """Take the runs of ``mask`` (over the group's rows) out of the group as diverged; the
    block positions of the rows left."""
    for position in rows[mask]:
        faults[int(position)] = ("diverged", reason, group.step)
    kept = [(r, group.saved_state(r)) for r, bad in zip(group.racers, mask, strict=True) if not bad]
    group.rebuild(kept)
    return np.array([racer.id for racer in group.racers], dtype=np.int64)


#: Problems a process built for the scenarios whose blocks it ran (a Dask worker runs
#: many blocks of one sweep: the data is loaded and the model built once).
_PROBLEMS: dict[bytes, Problem] = {}
#: Scenarios whose problem a process keeps.
KEPT_PROBLEMS = 2


def problem_for(scenario: Scenario) -> Problem:
    """The scenario's problem, built once per process (the scenario's pickle is the key: a
    task brings its own copy of the scenario)."""
    import pickle

    key = hashlib.sha256(pickle.dumps(scenario)).digest()
    problem = _PROBLEMS.get(key)
    if problem is None:
        problem, _ = build_problem(scenario)
        while len(_PROBLEMS) >= KEPT_PROBLEMS:
            del _PROBLEMS[next(iter(_PROBLEMS))]
        _PROBLEMS[key] = problem
    return problem


def run_block_here(scenario: Scenario, block: SweepBlock) -> BlockResult:
    """:func:`run_block` with this process's copy of the scenario's problem: the unit of
    work of a sweep on a Dask cluster."""
    return run_block(scenario, block, problem_for(scenario))


def run_blocks(
    scenario: Scenario, blocks: Sequence[SweepBlock], problem: Problem | None = None
) -> Iterator[BlockResult]:
    """Run ``blocks`` one after another in this process."""
    if problem is None:
        problem, _ = build_problem(scenario)
    for block in blocks:
        yield run_block(scenario, block, problem)


# ------------------------------------------------------------------------------ processes
@dataclass(frozen=True)
class WorkerReady:
    fingerprint: str
    description: str


@dataclass(frozen=True)
class BlockProgress:
    block: int
    steps: int


@dataclass(frozen=True)
class WorkerFailed:
    message: str
    #: The cluster could not be used at all (unreachable, no workers, another version):
    #: a user error rather than a fault.
    unusable: bool = False


_CLOSE = "close"
#: Blocks sent ahead to a worker, so it never waits for the next one.
AHEAD = 2


class SweepProcesses:
    """Blocks run by ``processes`` worker processes: ``start()``, then ``poll(timeout)``
    for :class:`WorkerReady`, :class:`BlockProgress`, :class:`BlockResult` and
    :class:`WorkerFailed`; ``close()`` always (it ends the workers, done or not)."""

    def __init__(self, scenario: Scenario, blocks: Sequence[SweepBlock], processes: int):
        self.scenario = scenario
        self.pending = list(blocks)
        self.count = max(1, min(processes, len(blocks)))
        self._children: list[subprocess.Popen[bytes]] = []
        self._conns: list[Connection] = []
        self._ahead: dict[int, int] = {}
        self._dead: set[int] = set()
        self.ready: WorkerReady | None = None

    def start(self) -> None:
        for _ in range(self.count):
            child, parent_end = spawn_child("tui_optim.race.sweep", ONE_BLAS_THREAD)
            parent_end.send(self.scenario)
            self._children.append(child)
            self._conns.append(parent_end)

    def _feed(self, index: int) -> None:
        conn = self._conns[index]
        while self.pending and self._ahead.get(index, 0) < AHEAD:
            conn.send(self.pending.pop(0))
            self._ahead[index] = self._ahead.get(index, 0) + 1

    def poll(self, timeout: float) -> list[Any]:
        out: list[Any] = []
        alive = [conn for index, conn in enumerate(self._conns) if index not in self._dead]
        if not alive:
            time.sleep(timeout)
            return out
        for conn in wait(alive, timeout):
            assert isinstance(conn, Connection)
            index = self._conns.index(conn)
            try:
                while conn.poll():
                    message = conn.recv()
                    if isinstance(message, WorkerReady):
                        self.ready = self.ready or message
                        self._feed(index)
                    elif isinstance(message, BlockResult):
                        self._ahead[index] -= 1
                        self._feed(index)
                    out.append(message)
            except (EOFError, OSError):
                self._dead.add(index)
                out.append(WorkerFailed("a sweep worker process ended unexpectedly"))
        return out

    def close(self) -> None:
        stop_children(self._children, self._conns, _CLOSE, JOIN_SECONDS)
        self._children, self._conns = [], []


class ClusterSweep:
    """:class:`SweepProcesses` on a Dask cluster (a ClusterRequest): ``start()``, then
    ``poll(timeout)`` for :class:`WorkerReady`, :class:`BlockResult` and
    :class:`WorkerFailed` (a cluster that cannot be reached or went away: its one-line
    message); ``close()`` always. A thread opens the cluster and sends each block as one
    task, so neither the cluster's start nor the tasks hold up the caller (the app)."""

    def __init__(self, scenario: Scenario, blocks: Sequence[SweepBlock], cluster: Any):
        import queue
        import threading

        self.scenario = scenario
        self.blocks = list(blocks)
        self.cluster = cluster
        self._messages: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dask-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import functools

        from tui_optim.race.cluster import ClusterError, DaskPool

        try:
            pool = DaskPool(self.cluster)
        except ClusterError as error:
            self._messages.put(WorkerFailed(str(error), unusable=True))
            return
        try:
            problem, info = build_problem(self.scenario)
            self._messages.put(WorkerReady(fingerprint(self.scenario, problem), info.description))
            unit = functools.partial(run_block_here, self.scenario)
            for _, result in pool.map_unordered(unit, self.blocks, stop=self._stop.is_set):
                self._messages.put(result)
        except ClusterError as error:
            self._messages.put(WorkerFailed(str(error)))
        except Exception as error:
            self._messages.put(WorkerFailed(one_line(error)))
        finally:
            pool.close()

    def poll(self, timeout: float) -> list[Any]:
        import queue

        out: list[Any] = []
        try:
            out.append(
                self._messages.get(timeout=timeout) if timeout > 0 else self._messages.get_nowait()
            )
            while True:
                out.append(self._messages.get_nowait())
        except queue.Empty:
            pass
        return out

    def close(self) -> None:
        """Cancel the tasks left and stop the cluster (if the run started one); waits for
        a cluster still starting to be up first, so no worker is left behind."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _worker(conn: Connection) -> None:
    try:
        scenario = conn.recv()
    except (EOFError, OSError):
        return
    try:
        problem, info = build_problem(scenario)
        conn.send(WorkerReady(fingerprint(scenario, problem), info.description))
    except Exception as error:
        conn.send(WorkerFailed(one_line(error)))
        return
    while True:
        try:
            block = conn.recv()
        except (EOFError, OSError):
            return
        if not isinstance(block, SweepBlock):
            return
        number = block.number

        def report(steps: int, number: int = number) -> None:
            conn.send(BlockProgress(number, steps))

        try:
            conn.send(run_block(scenario, block, problem, report))
        except (BrokenPipeError, OSError):
            return
        except Exception as error:
            conn.send(WorkerFailed(one_line(error)))
            return


def main(argv: list[str]) -> None:
    """Entry point of a worker: ``python -m tui_optim.race.sweep FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker(parent_pipe(argv))


if __name__ == "__main__":
    # Run the module's own copy, so the messages pickle as tui_optim.race.sweep classes.
    from tui_optim.race import sweep as _sweep

    _sweep.main(sys.argv[1:])
