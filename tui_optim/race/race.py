"""The race: racers on one problem, stepped in lockstep, diagnosed, streamed as snapshots.

A :class:`Race` runs in whatever process owns it (the engine child process of
:mod:`tui_optim.race.process`, or a test) and knows nothing of who watches. It answers
:mod:`~tui_optim.race.messages` commands with messages, and :meth:`Race.snapshot` returns
what happened since the previous snapshot.

Lockstep (docs/ARCHITECTURE.md): racers that share a batch schedule (the same batch size and
the same seed, i.e. the same repeat) form a :class:`Group`. A group keeps every racer's
parameters as one ``(R, P)`` array, so one batched forward/backward pass serves all of
them; within the group, racers of the same optimizer family and structural flags form a
block that one vectorised optimizer update serves. Groups with different batch sizes are
kept aligned by epoch: the race always advances the group that is furthest behind.

Fairness: every racer of a repeat starts from the same initial parameters and sees the
same batches in the same order; :attr:`Race.fingerprint` hashes both (and the data).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.data import BatchSchedule, load_dataset
from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import Optimizer, get_optimizer
from tui_optim.engine.optimizers.base import Closure
from tui_optim.engine.problems import MLPProblem, Problem, SurfaceProblem
from tui_optim.engine.schedules import Schedule, make_schedule
from tui_optim.engine.surfaces import get_surface
from tui_optim.race.diagnosis import Verdict
from tui_optim.race.messages import (
    AddRacer,
    Command,
    CommandRejected,
    Event,
    ForkRacer,
    LayerStats,
    Pause,
    ProblemInfo,
    RacersChanged,
    RacerSpec,
    RacerStats,
    RaceStarted,
    RaceState,
    RemoveRacer,
    Restart,
    Resume,
    SaveWeights,
    SetHparam,
    SetPace,
    Snapshot,
    StepEpoch,
    Stop,
    WeightsSaved,
)
from tui_optim.race.recorder import (
    HORIZON_EVERY_EPOCHS,
    TERMINAL,
    Racer,
    Recorder,
    evaluation_interval,
)
from tui_optim.scenario import RacerConfig, Scenario, default_racer_name

#: Racer colours, chosen to stay distinct on dark and light terminals.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#17becf",
    "#bcbd22",
)


#: Longest slug: a weight file name (slug, "-seed<n>", ".npz") stays far below 255 bytes.
MAX_SLUG_LENGTH = 96


def slugify(name: str) -> str:
    """A file-name-safe form of a racer name: ``"adam lr=0.01"`` -> ``"adam-lr-0.01"``."""
    slug = re.sub(r"[^a-z0-9.]+", "-", name.lower())[:MAX_SLUG_LENGTH].strip("-.")
    return slug or "racer"


def unique_slug(name: str, taken: set[str]) -> str:
    """``slugify(name)``, with ``-2``, ``-3`` ... appended until it is not in ``taken``."""
    base = slug = slugify(name)
    suffix = 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def race_slugs(scenario: Scenario) -> list[str]:
    """The slug of each of the scenario's racers, in order: unique within the race and the
    same in every engine process of a split race (repeats of a racer share its slug)."""
    taken: set[str] = set()
    slugs = []
    for config in scenario.racers:
        slug = unique_slug(config.name, taken)
        taken.add(slug)
        slugs.append(slug)
    return slugs


def weight_file_stem(slug: str, seed: int, repeats: int) -> str:
    """The name (without ``.npz``) a racer's weights are saved under."""
    return f"{slug}-seed{seed}" if repeats > 1 else slug


def _row_norms(array: np.ndarray) -> np.ndarray:
    """L2 norm of each row of an (R, n) array, in float64."""
    return np.sqrt(np.einsum("ij,ij->i", array, array, dtype=np.float64))


@dataclass
class Block:
    """Rows ``[start, stop)`` of a group, updated by one optimizer instance."""

    optimizer: Optimizer
    start: int
    stop: int
    params: np.ndarray
    grads: np.ndarray
    schedules: list[Schedule | None]

    @property
    def scheduled(self) -> bool:
        return any(s is not None for s in self.schedules)

    def apply_schedules(self) -> None:
        """Write each row's learning-rate factor for the step about to be taken."""
        opt = self.optimizer
        for row, schedule in enumerate(self.schedules):
            if schedule is not None:
                opt.lr_scale[row, 0] = schedule.factor(int(opt.t[row, 0]) + 1)


def _family_key(racer: Racer) -> tuple[Any, ...]:
    """Racers with equal keys can share a block: same flavor and family, same structural
    flags (and a wrapper's inner optimizer)."""
    cls = get_optimizer(racer.spec.optimizer, racer.spec.flavor)
    return (cls.flavor, cls.name, cls.block_key(racer.hparams))


class Group:
    """Racers stepped in lockstep: one batch schedule, one (R, P) parameter array."""

    def __init__(
        self,
        problem: Problem,
        schedule: BatchSchedule,
        total_steps: int,
        seed: int,
        batch_size: int | None,
    ):
        self.problem = problem
        self.schedule = schedule
        self.total_steps = total_steps
        self.seed = seed
        self.batch_size = batch_size
        self.steps_per_epoch = max(1, schedule.steps_per_epoch)
        self.step = 0
        self.position = 0  # step within the current epoch
        self.batches: list[np.ndarray | None] = []
        self.racers: list[Racer] = []
        self.blocks: list[Block] = []
        self.params = np.empty((0, problem.n_params), dtype=problem.dtype)
        self.grads = np.empty_like(self.params)
        self.before = np.empty_like(self.params)
        self.last_update = np.zeros_like(self.params)
        self.effective = np.zeros_like(self.params)
        self.loss_sum = np.zeros(0)
        #: Gradient evaluations per row (one per step, more for L-BFGS and SAM).
        self.grad_evals = np.zeros(0, dtype=np.int64)
        self.loss_count = 0
        #: Steps between two evaluations (history points); a step count, not a clock, so
        #: the same race records the same points on any machine.
        self.eval_every = evaluation_interval(self.steps_per_epoch, total_steps, problem.n_train)
        self.evaluations = 0

    # ---------------------------------------------------------------- membership
    @property
    def progress(self) -> float:
        """Epochs done, with a fraction for the current one."""
        return self.step / self.steps_per_epoch

    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps or not self.racers

    def row_of(self, racer: Racer) -> int:
        return self.racers.index(racer)

    def saved_state(self, racer: Racer) -> dict[str, Any]:
        """A racer's parameter row and optimizer state (to carry it into a rebuilt group)."""
        row = self.row_of(racer)
        for block in self.blocks:
            if block.start <= row < block.stop:
                saved = block.optimizer.row_state(row - block.start)
                break
        else:  # pragma: no cover - every row belongs to a block
            raise RuntimeError("row without a block")
        saved["params"] = self.params[row].copy()
        saved["loss_sum"] = float(self.loss_sum[row])
        saved["grad_evals"] = int(self.grad_evals[row])
        return saved

    def rebuild(self, entries: Sequence[tuple[Racer, dict[str, Any]]]) -> None:
        """Make ``entries`` (racer, saved state with "params") the group's rows.

        Rows are ordered so racers of one family and structural flags are contiguous; each
        such run becomes a block with a fresh optimizer whose row states are restored.
        """
        ordered = sorted(entries, key=lambda entry: _family_key(entry[0]))
        self.racers = [racer for racer, _ in ordered]
        count = len(ordered)
        dtype = self.problem.dtype
        self.params = np.empty((count, self.problem.n_params), dtype=dtype)
        for row, (_, saved) in enumerate(ordered):
            self.params[row] = saved["params"]
        self.grads = np.zeros_like(self.params)
        self.before = np.empty_like(self.params)
        self.last_update = np.zeros_like(self.params)
        self.effective = np.zeros_like(self.params)
        self.loss_sum = np.array([saved.get("loss_sum", 0.0) for _, saved in ordered])
        self.grad_evals = np.array(
            [saved.get("grad_evals", 0) for _, saved in ordered], dtype=np.int64
        )
        self.blocks = []
        start = 0
        while start < count:
            key = _family_key(ordered[start][0])
            stop = start
            while stop < count and _family_key(ordered[stop][0]) == key:
                stop += 1
            racers = [racer for racer, _ in ordered[start:stop]]
            cls = get_optimizer(racers[0].spec.optimizer, racers[0].spec.flavor)
            optimizer = cls([racer.hparams for racer in racers], dtype)
            optimizer.tensors = self.problem.tensors()
            params, grads = self.params[start:stop], self.grads[start:stop]
            optimizer.init_state(params)
            for offset, (_, saved) in enumerate(ordered[start:stop]):
                if "state" in saved:
                    optimizer.set_row_state(offset, saved)
            schedules = [racer.schedule for racer in racers]
            self.blocks.append(Block(optimizer, start, stop, params, grads, schedules))
            start = stop

    def evaluation_params(self) -> np.ndarray:
        """The rows' weights where losses are reported and weights exported: ``params``
        itself unless an optimizer evaluates elsewhere (schedule-free), then a copy with
        those rows at their optimizers' evaluation points."""
        out = self.params
        for block in self.blocks:
            at = block.optimizer.evaluation_params(block.params)
            if at is not block.params:
                if out is self.params:
                    out = self.params.copy()
                out[block.start : block.stop] = at
        return out

    def evaluation_row(self, racer: Racer) -> np.ndarray:
        """One racer's row of :meth:`evaluation_params`."""
        block, offset = self.block_of(racer)
        row: np.ndarray = block.optimizer.evaluation_params(block.params)[offset]
        return row

    def block_of(self, racer: Racer) -> tuple[Block, int]:
        row = self.row_of(racer)
        for block in self.blocks:
            if block.start <= row < block.stop:
                return block, row - block.start
        raise KeyError(racer.id)  # pragma: no cover

    # ---------------------------------------------------------------- stepping
    def step_once(self, record: bool) -> np.ndarray:
        """One training step for every racer of the group; returns the losses (R,)."""
        if self.position == 0:
            self.batches = self.schedule.epoch(self.step // self.steps_per_epoch)
        batch = self.batches[self.position]
        if record:
            np.copyto(self.before, self.params)
        losses = self.problem.loss_and_grad(self.params, batch, self.grads)
        self.grad_evals += 1
        for block in self.blocks:
            at = block.optimizer.evaluation_params(block.params)
            if at is not block.params:  # schedule-free: the loss is reported where it evaluates
                losses = losses.copy()
                scratch = np.empty_like(at)
                losses[block.start : block.stop] = self.problem.loss_and_grad(at, batch, scratch)
        for block in self.blocks:
            if block.scheduled:
                block.apply_schedules()
            optimizer = block.optimizer
            if optimizer.needs_closure:
                closure = self.closure(block, batch)
                optimizer.step(  # type: ignore[call-arg]
                    block.params, block.grads, closure, losses[block.start : block.stop]
                )
            else:
                optimizer.step(block.params, block.grads)
        self.step += 1
        self.position += 1
        if self.position == self.steps_per_epoch:
            self.position = 0
        self.loss_sum += losses
        self.loss_count += 1
        return losses

    def closure(self, block: Block, batch: np.ndarray | None, count: bool = True) -> Closure:
        """Evaluations of the problem on ``batch`` for ``block``'s optimizer, counted per row
        in :attr:`grad_evals` (unless ``count`` is false)."""
        evaluations = self.grad_evals[block.start : block.stop]
        problem = self.problem

        def evaluate(params: np.ndarray, grad_out: np.ndarray, rows: slice | np.ndarray):
            if count:
                evaluations[rows] += 1
            return problem.loss_and_grad(params, batch, grad_out)

        return evaluate

    def measure(self) -> dict[str, np.ndarray]:
        """Norms at a record point (the step just taken copied ``before``)."""
        np.subtract(self.params, self.before, out=self.last_update)
        param_norm = _row_norms(self.params)
        update_norm = _row_norms(self.last_update)
        effective = np.empty(len(self.racers))
        for block in self.blocks:
            step = np.broadcast_to(block.optimizer.effective_step(), block.params.shape)
            self.effective[block.start : block.stop] = step
            effective[block.start : block.stop] = np.abs(step).mean(axis=1)
        with np.errstate(all="ignore"):
            ratio = update_norm / param_norm
        return {
            "grad_norm": _row_norms(self.grads),
            "update_norm": update_norm,
            "param_norm": param_norm,
            "update_ratio": ratio,
            "effective_step": effective,
        }


# ------------------------------------------------------------------------------ the race
class RaceError(ValueError):
    """A race that cannot be built from its scenario (one-line message)."""


def build_problem(scenario: Scenario) -> tuple[Problem, ProblemInfo]:
    """The problem a scenario describes, and what a watcher needs to draw it."""
    if scenario.surface is not None:
        surface = get_surface(scenario.surface.function)
        surface_problem = SurfaceProblem(surface, scenario.surface.start)
        info = ProblemInfo(
            kind="surface",
            description=f"{surface.name}: {surface.summary}",
            is_classification=False,
            surface=surface.name,
            bounds=tuple(float(b) for b in surface.bounds),  # type: ignore[arg-type]
            minima=tuple((float(x), float(y)) for x, y in surface.minima),
            steps_per_epoch=1,
        )
        return surface_problem, info
    if scenario.data is None or scenario.model is None:
        raise RaceError("a scenario needs [surface], or [data] and [model]")
    model = scenario.model
    dataset = load_dataset(scenario.data, seed=scenario.seed)
    mlp = MLP(model.layers, model.hidden, model.output, model.loss, model.dtype)
    init = model.init if isinstance(model.init, Path) else str(model.init)
    problem: Problem = MLPProblem(mlp, dataset, init)
    schedule = BatchSchedule(problem.n_train, scenario.batch_size, scenario.shuffle, scenario.seed)
    sizes = "-".join(str(size) for size in model.layers)
    info = ProblemInfo(
        kind="mlp",
        description=(
            f"MLP {sizes} {model.hidden}/{model.output}, {model.loss} on {dataset.describe()}"
        ),
        is_classification=problem.is_classification,
        steps_per_epoch=schedule.steps_per_epoch,
    )
    return problem, info


class Race:
    """A whole race, advanced by :meth:`advance` and steered by :meth:`handle`.

    ``subset=(k, n)`` keeps only the racers whose index (over racers x repeats) is ``k``
    modulo ``n``: the runner uses it to split a big race over ``n`` processes. Racer ids
    stay those of the whole race, and new racers get ids ``>= 100_000 * (k + 1)``.
    """

    def __init__(
        self,
        scenario: Scenario,
        subset: tuple[int, int] = (0, 1),
        pace: float | None = None,
        paused: bool = False,
    ):
        self.scenario = scenario
        self.subset = subset
        self.problem, self.info = build_problem(scenario)
        self.with_position = self.info.kind == "surface"
        self.pace: float | None = None
        self._build(scenario.seed)
        self.set_pace(pace)
        if paused:
            self._set_state("paused")

    # ---------------------------------------------------------------- building
    def _build(self, seed: int) -> None:
        self.seed = seed
        self.state: RaceState = "running"
        self.racers: dict[int, Racer] = {}
        self.groups: dict[tuple[int, int | None], Group] = {}
        self.events: list[Event] = []
        self.elapsed = 0.0
        self.running_since: float | None = time.perf_counter()
        self.pause_at_epoch: float | None = None
        self.next_id = 100_000 * (self.subset[0] + 1)
        self.initial: dict[int, np.ndarray] = {}
        self.recorder = Recorder(self.problem, self.scenario.target_loss, self.with_position)
        scenario = self.scenario
        # Computed from the whole scenario, so the processes of a split race agree.
        self.initial_slugs = race_slugs(scenario)
        index = 0
        for repeat in range(scenario.repeats):
            repeat_seed = seed + repeat
            for position, config in enumerate(scenario.racers):
                if index % self.subset[1] == self.subset[0]:
                    slug = self.initial_slugs[position]
                    self._add(config, position, repeat, repeat_seed, racer_id=index, slug=slug)
                index += 1
        self.fingerprint = self._fingerprint()
        self._pace_from = (0.0, 0.0)

    def _initial_params(self, repeat_seed: int, start: tuple[float, float] | None) -> np.ndarray:
        if start is not None:
            return np.array(start, dtype=self.problem.dtype)
        if repeat_seed not in self.initial:
            self.initial[repeat_seed] = np.asarray(
                self.problem.initial_params(repeat_seed), dtype=self.problem.dtype
            ).reshape(-1)
        return self.initial[repeat_seed]

    def _group_for(self, repeat_seed: int, batch_size: int | None) -> Group:
        # a racer's own batch size overrides the scenario's; 0 means full batch
        size = self.scenario.batch_size if batch_size is None else batch_size or None
        key = (repeat_seed, size)
        group = self.groups.get(key)
        if group is None:
            scenario = self.scenario
            schedule = BatchSchedule(self.problem.n_train, size, scenario.shuffle, repeat_seed)
            spe = max(1, schedule.steps_per_epoch)
            if scenario.steps is not None:
                total = scenario.steps
            else:
                total = int(scenario.epochs or 0) * spe
            group = self.groups[key] = Group(self.problem, schedule, total, repeat_seed, size)
        return group

    def _add(
        self,
        config: RacerConfig,
        colour_index: int,
        repeat: int,
        repeat_seed: int,
        params: np.ndarray | None = None,
        saved: dict[str, Any] | None = None,
        parent: int | None = None,
        racer_id: int = 0,
        slug: str | None = None,
    ) -> Racer:
        """Create racer ``racer_id`` from ``config`` and put it into its group (``slug``:
        its slug, by default one unused by the race's racers)."""
        cls = get_optimizer(config.optimizer, config.flavor)
        hparams = cls.validate(config.hparams)
        size = self.scenario.batch_size if config.batch_size is None else config.batch_size
        if size and not self.with_position and cls.requires_full_batch(hparams):
            raise RaceError(
                f"{config.name}: {cls.name} needs the full batch, and this race gives it "
                f'batches of {size}; use batch_size = "full"'
            )
        schedule = None if config.schedule is None else make_schedule(config.schedule)
        if schedule is not None and schedule.name == "constant":
            schedule = None
        batch_size = config.batch_size
        colour = config.colour or PALETTE[colour_index % len(PALETTE)]
        rid = racer_id
        if slug is None:
            taken = {r.spec.slug for r in self.racers.values()} | set(self.initial_slugs)
            slug = unique_slug(config.name, taken)
        spec = RacerSpec(
            id=rid,
            name=config.name,
            slug=slug,
            optimizer=cls.name,
            hparams=dict(hparams),
            colour=colour,
            schedule=None if schedule is None else _schedule_label(config.schedule),
            start=config.start,
            grid_position=config.grid_position,
            parent=parent,
            repeat=repeat,
            seed=repeat_seed,
            flavor=cls.flavor,
        )
        monitor = self.recorder.monitor(cls)
        racer = Racer(spec, dict(hparams), schedule, batch_size, monitor)
        self.racers[rid] = racer
        group = self._group_for(repeat_seed, batch_size)
        entries = [(r, group.saved_state(r)) for r in group.racers]
        state = dict(saved or {})
        start = config.start if self.with_position else None
        if start is None and self.with_position and self.scenario.surface is not None:
            start = self.scenario.surface.start
        state["params"] = (
            self._initial_params(repeat_seed, start) if params is None else params
        ).copy()
        entries.append((racer, state))
        group.rebuild(entries)
        racer.epoch = group.progress
        return racer

    def _fingerprint(self) -> str:
        """Hash of everything that determines the race: the problem (surface, or data and
        model), the length, the target, every racer's optimizer, hyperparameters, schedule,
        batch size and start, each repeat's initial parameters and first epochs' batches.
        Titles, names and colours are left out: renaming a racer does not change the race.

        It depends on the scenario and seed only, not on which racers this race holds, so
        the processes of a split race agree on it.
        """
        digest = hashlib.sha256()
        digest.update(repr(_race_determinants(self.scenario)).encode())
        data = getattr(self.problem, "data", None)
        if data is not None:
            digest.update(np.ascontiguousarray(data.X_train).tobytes())
            digest.update(np.ascontiguousarray(data.Y_train).tobytes())
        scenario = self.scenario
        sizes = {scenario.batch_size} | {
            c.batch_size or None for c in scenario.racers if c.batch_size is not None
        }
        for repeat in range(scenario.repeats):
            repeat_seed = self.seed + repeat
            if self.with_position:
                starts = [c.start for c in scenario.racers if c.start is not None]
                default = scenario.surface.start if scenario.surface is not None else None
                digest.update(repr((default, starts)).encode())
            else:
                digest.update(self._initial_params(repeat_seed, None).tobytes())
            for size in sorted(sizes, key=lambda size: -1 if size is None else size):
                schedule = BatchSchedule(self.problem.n_train, size, scenario.shuffle, repeat_seed)
                for batch in schedule.epoch(0):
                    digest.update(b"all" if batch is None else np.asarray(batch).tobytes())
        return digest.hexdigest()[:10]

    # ---------------------------------------------------------------- queries
    def _group_of(self, racer: Racer) -> Group:
        for group in self.groups.values():
            if racer in group.racers:
                return group
        raise KeyError(racer.id)

    def _active_groups(self) -> list[Group]:
        return [g for g in self.groups.values() if not g.finished]

    @property
    def primary(self) -> Group | None:
        """The group whose step count the header shows (repeat 0, the scenario's batch)."""
        groups = [g for g in self.groups.values() if g.racers] or list(self.groups.values())
        if not groups:
            return None
        own = [g for g in groups if g.batch_size == self.scenario.batch_size]
        return min(own or groups, key=lambda g: g.seed)

    def clock(self) -> float:
        """Seconds the race has been running (pauses excluded)."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + time.perf_counter() - self.running_since

    def specs(self) -> tuple[RacerSpec, ...]:
        return tuple(r.spec for r in self.racers.values())

    def started(self) -> RaceStarted:
        scenario = self.scenario
        grid = None
        if scenario.grid is not None:
            grid = (
                (scenario.grid.row_key, tuple(scenario.grid.row_values)),
                (scenario.grid.column_key, tuple(scenario.grid.column_values)),
            )
        return RaceStarted(
            title=scenario.title,
            scenario=scenario.name,
            seed=self.seed,
            fingerprint=self.fingerprint,
            problem=self.info,
            racers=self.specs(),
            total_epochs=scenario.epochs,
            total_steps=scenario.steps,
            target_loss=scenario.target_loss,
            repeats=scenario.repeats,
            rank_by=scenario.rank_by,
            notes=scenario.look_for,
            grid=grid,
        )

    # ---------------------------------------------------------------- running
    def _set_state(self, state: RaceState) -> None:
        if state == "running" and self.running_since is None:
            self.running_since = time.perf_counter()
        elif state != "running" and self.running_since is not None:
            self.elapsed += time.perf_counter() - self.running_since
            self.running_since = None
        self.state = state

    # ---------------------------------------------------------------- pace
    def set_pace(self, steps_per_second: float | None) -> None:
        """Train at most ``steps_per_second`` race steps per second (None or inf: no limit).

        The pace is kept in epochs of race time (pauses excluded), so racers of different
        batch sizes stay aligned; it counts from now, so a slow stretch is not made up.
        """
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(
                f"pace must be a positive number of steps per second, got {steps_per_second}"
            )
        if steps_per_second is not None and math.isinf(steps_per_second):
            steps_per_second = None
        self.pace = steps_per_second
        self._pace_from = (self._progress(), self.clock())

    def progress_step(self) -> int:
        """The race's step count (the primary group's, as the header shows)."""
        primary = self.primary
        return 0 if primary is None else primary.step

    def _progress(self) -> float:
        groups = self._active_groups()
        return min((g.progress for g in groups), default=0.0)

    def _paced_limit(self) -> float:
        """The epoch the race may have reached by now at its pace (inf without one)."""
        if self.pace is None:
            return math.inf
        primary = self.primary
        steps_per_epoch = primary.steps_per_epoch if primary is not None else 1
        progress, since = self._pace_from
        return progress + self.pace * (self.clock() - since) / steps_per_epoch

    def wait_seconds(self) -> float:
        """Seconds until the pace allows the next step (0 when it may train now)."""
        if self.state != "running" or self.pace is None:
            return 0.0
        primary = self.primary
        steps_per_epoch = primary.steps_per_epoch if primary is not None else 1
        ahead = (self._progress() - self._paced_limit()) * steps_per_epoch  # steps
        # The next step may start once the clock allows it: one step's worth past progress.
        return max(0.0, (ahead + 1.0) / self.pace - 1e-6) if ahead > -1.0 else 0.0

    def advance(self, max_seconds: float) -> None:
        """Train for about ``max_seconds`` (less when the race finishes or pauses, or the
        pace says to wait: :meth:`wait_seconds` tells how long)."""
        if self.state != "running":
            return
        deadline = time.perf_counter() + max_seconds
        with np.errstate(all="ignore"):
            while self.state == "running":
                groups = self._active_groups()
                if not groups:
                    self._finish()
                    return
                group = min(groups, key=lambda g: g.progress)
                limit = self._paced_limit()
                if self.pace is not None and group.progress + 1.0 / group.steps_per_epoch > (
                    limit + 1e-9
                ):
                    return  # ahead of the pace
                # Run the laggard until it catches up with the next group or its epoch ends.
                others = [g.progress for g in groups if g is not group]
                catch_up = min(others) if others else math.inf
                self._run_group(group, deadline, min(catch_up, limit))
                if self.pause_at_epoch is not None and all(
                    g.progress >= self.pause_at_epoch - 1e-9 for g in self._active_groups()
                ):
                    self.pause_at_epoch = None
                    self._set_state("paused")
                if time.perf_counter() >= deadline:
                    return

    def _finish(self) -> None:
        self._set_state("finished")
        for racer in self.racers.values():
            verdict = racer.monitor.finish(racer.steps, racer.epoch, racer.loss)
            if verdict is not None:
                self._apply_verdict(racer, verdict, racer.steps, racer.epoch, racer.seconds)

    def _run_group(self, group: Group, deadline: float, catch_up: float) -> None:
        spe = group.steps_per_epoch
        perf_counter = time.perf_counter
        while not group.finished:
            last = group.step + 1 >= group.total_steps
            record = last or (group.step + 1) % group.eval_every == 0
            try:
                losses = group.step_once(record)
            except Exception as error:
                self._block_failed(group, error)
                return
            if not math.isfinite(float(losses.sum())):
                self._non_finite(group, losses)
                if group.finished:
                    return
                continue
            if record:
                self._record(group, losses)
                if not group.racers:
                    return
            elif self.recorder.watching(group):
                self.recorder.check_target(group, self.clock())
            if self.pause_at_epoch is not None and group.progress >= self.pause_at_epoch - 1e-9:
                return
            if catch_up - group.progress < 1.0 / spe - 1e-9 and self.pace is not None:
                return  # the next step would run ahead of the pace
            if group.position == 0 and (group.progress >= catch_up or perf_counter() >= deadline):
                return
            if spe > 1 and group.position != 0 and perf_counter() >= deadline:
                return

    # ---------------------------------------------------------------- measurements
    def _record(self, group: Group, losses: np.ndarray) -> None:
        """Evaluate every racer of ``group`` after its step (see :mod:`recorder`)."""
        for row, racer in enumerate(group.racers):
            racer.batch_loss = float(losses[row])
        epochs = group.progress
        due = group.step >= group.total_steps or math.floor(
            epochs / HORIZON_EVERY_EPOCHS
        ) > math.floor(
            (group.step - group.eval_every) / group.steps_per_epoch / HORIZON_EVERY_EPOCHS
        )
        verdicts = self.recorder.record(group, self.clock(), due)
        for racer, verdict in verdicts:
            self._apply_verdict(racer, verdict, group.step, group.progress, racer.seconds)

    def _apply_verdict(
        self, racer: Racer, verdict: Verdict, step: int, epoch: float, seconds: float
    ) -> None:
        racer.status = verdict.status
        racer.reason = verdict.reason
        self.events.append(Event(racer.id, step, epoch, seconds, verdict.status, verdict.reason))
        if verdict.status in TERMINAL:
            self._freeze(racer)

    def _freeze(self, racer: Racer) -> None:
        """Take a diverged or failed racer out of its group, keeping its parameters."""
        try:
            group = self._group_of(racer)
        except KeyError:
            return
        racer.frozen_params = group.evaluation_row(racer).copy()
        entries = [(r, group.saved_state(r)) for r in group.racers if r is not racer]
        group.rebuild(entries)

    def _non_finite(self, group: Group, losses: np.ndarray) -> None:
        """Mark every racer whose loss is NaN/inf as diverged, naming the first bad layer."""
        seconds = self.clock()
        bad = [racer for row, racer in enumerate(group.racers) if not np.isfinite(losses[row])]
        for racer in bad:
            row = group.row_of(racer)
            racer.batch_loss = float(losses[row])
            what = "the loss"
            groups = self.problem.groups()
            for part in groups:
                spans = [part.weight] + ([part.bias] if part.bias is not None else [])
                if any(not np.isfinite(group.before[row, s]).all() for s in spans):
                    what = f"the parameters of {part.name}"
                    break
                if any(not np.isfinite(group.grads[row, s]).all() for s in spans):
                    what = f"the gradient of {part.name}"
                    break
            verdict = racer.monitor.non_finite(group.step, group.progress, seconds, what)
            racer.steps, racer.epoch, racer.seconds = group.step, group.progress, seconds
            self._apply_verdict(racer, verdict, group.step, group.progress, seconds)

    def _block_failed(self, group: Group, error: Exception) -> None:
        """An optimizer update raised: mark the racers whose update fails "error".

        The parameters of the failing step may be half-updated; the racers found failing are
        taken out of the race, the others go on from where they are.
        """
        seconds = self.clock()
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        failing = self._find_failing(group) or list(group.racers)
        for racer in failing:
            verdict = racer.monitor.failed(group.step, group.progress, message)
            self._apply_verdict(racer, verdict, group.step, group.progress, seconds)

    def _find_failing(self, group: Group) -> list[Racer]:
        """The racers whose optimizer update raises, found by stepping each row alone from
        its own state (one bad row must not take its block's other racers with it)."""
        failing = []
        for block in group.blocks:
            optimizer = block.optimizer
            for offset in range(block.stop - block.start):
                racer = group.racers[block.start + offset]
                try:
                    probe = type(optimizer)([racer.hparams], optimizer.dtype)
                    probe.tensors = optimizer.tensors
                    params = block.params[offset : offset + 1].copy()
                    probe.init_state(params)
                    probe.set_row_state(0, optimizer.row_state(offset))
                    probe.lr_scale[0, 0] = optimizer.lr_scale[offset, 0]
                    if probe.needs_closure:
                        batch = group.batches[group.position] if group.batches else None
                        grads = np.empty_like(params)
                        losses = group.problem.loss_and_grad(params, batch, grads)
                        closure = group.closure(block, batch, count=False)
                        probe.step(params, grads, closure, losses)  # type: ignore[call-arg]
                    else:
                        probe.step(params, block.grads[offset : offset + 1].copy())
                except Exception:
                    failing.append(racer)
        return failing

    # ---------------------------------------------------------------- snapshots
    def _layer_stats(self, group: Group) -> None:
        """Per-layer figures of every racer of ``group`` (vectorised over its rows)."""
        parts = self.problem.groups()
        rows = len(group.racers)
        if rows == 0:
            return
        table: list[list[LayerStats]] = [[] for _ in range(rows)]
        for part in parts:
            spans = [part.weight] + ([part.bias] if part.bias is not None else [])
            columns = np.concatenate([np.arange(s.start, s.stop) for s in spans])
            weights = group.params[:, columns]
            weight_norm = _row_norms(weights)
            grad_norm = _row_norms(group.grads[:, columns])
            with np.errstate(all="ignore"):
                ratio = _row_norms(group.last_update[:, columns]) / weight_norm
            effective = np.abs(group.effective[:, columns]).mean(axis=1)
            state_norms: list[dict[str, float]] = [{} for _ in range(rows)]
            for block in group.blocks:
                for key, value in block.optimizer.state.items():
                    if value.ndim != 2 or value.shape[1] != self.problem.n_params:
                        continue
                    norms = _row_norms(value[:, columns])
                    for offset in range(block.stop - block.start):
                        state_norms[block.start + offset][f"|{key}|"] = float(norms[offset])
            for row in range(rows):
                table[row].append(
                    LayerStats(
                        part.name,
                        float(weight_norm[row]),
                        float(grad_norm[row]),
                        float(ratio[row]),
                        float(effective[row]),
                        state_norms[row],
                    )
                )
        for row, racer in enumerate(group.racers):
            racer.layers = tuple(table[row])

    def snapshot(self) -> Snapshot:
        """The race now, with the history points and events since the last snapshot."""
        for group in self.groups.values():
            self._layer_stats(group)
        stats = []
        for racer in self.racers.values():
            steps_per_s = racer.steps / racer.seconds if racer.seconds > 0 else 0.0
            stability = racer.stability()
            stats.append(
                RacerStats(
                    id=racer.id,
                    status=racer.status,
                    reason=racer.reason,
                    step=racer.steps,
                    epoch=racer.epoch,
                    loss=racer.loss,
                    batch_loss=racer.batch_loss,
                    val_loss=racer.val_loss,
                    accuracy=racer.accuracy,
                    val_accuracy=racer.val_accuracy,
                    best_loss=racer.best_loss,
                    grad_norm=racer.grad_norm,
                    update_norm=racer.update_norm,
                    update_ratio=racer.update_ratio,
                    effective_step=racer.effective_step,
                    steps_per_s=steps_per_s,
                    seconds=racer.seconds,
                    grad_evals=racer.grad_evals,
                    time_to_target=racer.time_to_target,
                    position=racer.position,
                    layers=racer.layers,
                    new_points=racer.take_points(self.with_position),
                    horizon=racer.horizon,
                    sharpness=racer.sharpness,
                    stability_limit=None if stability is None else stability[0],
                )
            )
        primary = self.primary
        groups = [g for g in self.groups.values() if g.racers]
        epoch = min((g.progress for g in groups), default=0.0)
        events, self.events = tuple(self.events), []
        return Snapshot(
            step=0 if primary is None else primary.step,
            epoch=epoch,
            seconds=self.clock(),
            state=self.state,
            racers=tuple(stats),
            events=events,
        )

    # ---------------------------------------------------------------- commands
    def handle(self, command: Command) -> list[Any]:
        """Carry out ``command``; returns the messages to send back (maybe none)."""
        try:
            return self._handle(command)
        except (ValueError, KeyError, OSError) as error:
            text = str(error).strip().splitlines()
            message = text[0] if text else type(error).__name__
            if isinstance(error, KeyError):
                message = f"no racer {error}"
            return [CommandRejected(type(command).__name__, message)]

    def _handle(self, command: Command) -> list[Any]:
        if isinstance(command, Pause):
            if self.state == "running":
                self._set_state("paused")
        elif isinstance(command, Resume):
            if self.state == "paused":
                self.pause_at_epoch = None
                self._set_state("running")
        elif isinstance(command, StepEpoch):
            if self.state in ("paused", "running"):
                groups = self._active_groups()
                if groups:
                    self.pause_at_epoch = min(g.progress for g in groups) + 1
                    self._set_state("running")
        elif isinstance(command, Stop):
            self._set_state("stopped")
        elif isinstance(command, SetPace):
            self.set_pace(command.steps_per_second)
        elif isinstance(command, Restart):
            seed = secrets.randbelow(2**31) if command.new_seed else self.seed
            self._build(seed)
            self.set_pace(self.pace)
            return [self.started()]
        elif isinstance(command, SetHparam):
            self._set_hparam(command)
            return [RacersChanged(self.specs())]
        elif isinstance(command, AddRacer):
            self._add_racer(command)
            return [RacersChanged(self.specs())]
        elif isinstance(command, RemoveRacer):
            self._remove(self.racers[command.racer])
            return [RacersChanged(self.specs())]
        elif isinstance(command, ForkRacer):
            self._fork(command)
            return [RacersChanged(self.specs())]
        elif isinstance(command, SaveWeights):
            paths = self.save_weights(command.directory, archive=command.archive)
            return [WeightsSaved(tuple(str(p) for p in paths))]
        else:
            raise ValueError(f"unknown command {type(command).__name__}")
        return []

    def _config_of(self, racer: Racer, **changes: Any) -> RacerConfig:
        spec = racer.spec
        config = RacerConfig(
            name=spec.name,
            optimizer=spec.optimizer,
            hparams=dict(racer.hparams),
            schedule=None if racer.schedule is None else spec.schedule,
            start=spec.start,
            colour=spec.colour,
            grid_position=spec.grid_position,
            flavor=spec.flavor,
        )
        return replace(config, batch_size=racer.batch_size, **changes)

    def _new_id(self) -> int:
        used = set(self.racers)
        while self.next_id in used:
            self.next_id += 1
        self.next_id += 1
        return self.next_id - 1

    def _set_hparam(self, command: SetHparam) -> None:
        racer = self.racers[command.racer]
        if racer.terminal:
            raise ValueError(f"{racer.spec.name} has {racer.status}; fork or restart instead")
        cls = get_optimizer(racer.spec.optimizer, racer.spec.flavor)
        canonical = cls.canonical_name(command.name)
        if canonical is None:
            cls.validate({command.name: command.value})  # raises the one-line error
            return
        hparams = cls.validate({**racer.hparams, canonical: command.value})
        group = self._group_of(racer)
        if cls.spec(canonical).structural:
            racer.hparams = hparams
            group.rebuild([(r, group.saved_state(r)) for r in group.racers])
        else:
            block, row = group.block_of(racer)
            block.optimizer.set_hparam(row, canonical, hparams[canonical])
            racer.hparams = hparams
        racer.spec = replace(racer.spec, hparams=dict(hparams))
        racer.monitor.reset()

    def _add_racer(self, command: AddRacer) -> None:
        cls = get_optimizer(command.optimizer, command.flavor)
        hparams = cls.validate(command.hparams)
        name = command.name or default_racer_name(cls.name, hparams, cls.flavor)
        names = {r.spec.name for r in self.racers.values()}
        base, suffix = name, 2
        while name in names:
            name, suffix = f"{base} ({suffix})", suffix + 1
        config = RacerConfig(name, cls.name, hparams, flavor=cls.flavor)
        rid = self._new_id()
        self._add(
            config, len({r.spec.name for r in self.racers.values()}), 0, self.seed, racer_id=rid
        )

    def _remove(self, racer: Racer) -> None:
        try:
            group = self._group_of(racer)
        except KeyError:
            pass
        else:
            group.rebuild([(r, group.saved_state(r)) for r in group.racers if r is not racer])
        del self.racers[racer.id]
        self.recorder.forget(racer.id)

    def _fork(self, command: ForkRacer) -> None:
        parent = self.racers[command.racer]
        if parent.terminal:
            raise ValueError(f"{parent.spec.name} has {parent.status}; it cannot be forked")
        cls = get_optimizer(parent.spec.optimizer, parent.spec.flavor)
        hparams = cls.validate({**parent.hparams, **command.changes})
        changed = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in command.changes.items()
        )
        name = command.name or f"{parent.spec.name} ({changed or 'fork'})"
        group = self._group_of(parent)
        saved = group.saved_state(parent)
        config = self._config_of(parent, name=name, hparams=hparams, colour=None)
        rid = self._new_id()
        child = self._add(
            config,
            len({r.spec.name for r in self.racers.values()}),
            parent.spec.repeat,
            parent.spec.seed,
            params=saved["params"],
            saved=saved,
            parent=parent.id,
            racer_id=rid,
        )
        for attribute in (
            "steps",
            "epoch",
            "seconds",
            "grad_evals",
            "best_loss",
            "batch_loss",
            "loss",
        ):
            setattr(child, attribute, getattr(parent, attribute))

    def current_params(self, racer: Racer) -> np.ndarray:
        if racer.frozen_params is not None:
            return racer.frozen_params
        return self._group_of(racer).evaluation_row(racer)

    def racer_arrays(self, racer: Racer) -> dict[str, np.ndarray]:
        """A racer's parameters as named arrays: W1, b1, ... (Keras layout) or w."""
        row = self.current_params(racer)
        if isinstance(self.problem, MLPProblem):
            return self.problem.mlp.to_arrays(row)
        return {"w": row.copy()}

    def save_weights(self, target: str | Path, archive: bool = False) -> list[Path]:
        """Write ``target/<slug>.npz`` per racer, or with ``archive`` one .npz file with
        ``<slug>/W1`` ... keys; atomically. Returns the paths written."""
        from tui_optim.engine.init import save_weights

        def label(racer: Racer) -> str:
            return weight_file_stem(racer.spec.slug, racer.spec.seed, self.scenario.repeats)

        if archive:
            merged = {
                f"{label(racer)}/{key}": value
                for racer in self.racers.values()
                for key, value in self.racer_arrays(racer).items()
            }
            save_weights(Path(target), merged)
            return [Path(target)]
        folder = Path(target)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for racer in self.racers.values():
            path = folder / f"{label(racer)}.npz"
            save_weights(path, self.racer_arrays(racer))
            paths.append(path)
        return paths


def _race_determinants(scenario: Scenario) -> tuple[Any, ...]:
    """What the race's numbers depend on besides the data bytes and initial parameters
    (which the fingerprint hashes itself), in a form whose repr is stable across machines."""
    model = scenario.model
    data = scenario.data
    racers = tuple(
        (
            config.optimizer,
            config.flavor,
            tuple(sorted(config.hparams.items())),
            None if config.schedule is None else _schedule_label(config.schedule),
            config.start,
            config.batch_size,
        )
        for config in scenario.racers
    )
    return (
        None if scenario.surface is None else scenario.surface.function,
        None
        if model is None
        else (model.layers, model.hidden, model.output, model.loss, model.dtype),
        None
        if data is None
        else (data.scale, data.validation, data.encoding, sorted(data.options.items())),
        scenario.epochs,
        scenario.steps,
        scenario.batch_size,
        scenario.shuffle,
        scenario.target_loss,
        scenario.repeats,
        racers,
    )


def _schedule_label(schedule: Any) -> str:
    """A schedule spec as the short text the UI shows: ``"cosine:total_steps=400"``."""
    if isinstance(schedule, str):
        return schedule
    if isinstance(schedule, dict):
        name = schedule.get("name", "schedule")
        rest = ",".join(f"{k}={v}" for k, v in schedule.items() if k != "name")
        return f"{name}:{rest}" if rest else str(name)
    return str(schedule)

