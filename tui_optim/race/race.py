"""The race: racers on one problem, stepped in lockstep, diagnosed, streamed as snapshots.

A :class:`Race` runs in whatever process owns it (the engine child process of
:mod:`tui_optim.race.process`, or a test) and knows nothing of who watches. It answers
:mod:`~tui_optim.race.messages` commands with messages, and :meth:`Race.snapshot` returns
what happened since the previous snapshot.

Lockstep (docs/ARCHITECTURE.md): racers that share a batch schedule (the same batch size and
the same seed, i.e. the same repeat) form a :class:`~tui_optim.race.group.Group`, stepped by
one batched pass. Groups with different batch sizes are kept aligned by epoch: the race
always advances the group that is furthest behind. What each command does is in
:mod:`tui_optim.race.commands`; slugs and weight-file names in :mod:`tui_optim.race.weights`.
The race never asks which kind of problem it has: the
:class:`~tui_optim.engine.problems.Problem` answers (start points, batches, what identifies
it, how its weights are named).

Fairness: every racer of a repeat starts from the same initial parameters and sees the
same batches in the same order; :attr:`Race.fingerprint` hashes both (and the data).
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.data import BatchSchedule, load_dataset
from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import get_optimizer
from tui_optim.engine.problems import MLPProblem, Problem, SurfaceProblem
from tui_optim.engine.schedules import make_schedule
from tui_optim.engine.surfaces import get_surface
from tui_optim.race.commands import handle_command
from tui_optim.race.diagnosis import Verdict
from tui_optim.race.group import Group, row_norms
from tui_optim.race.messages import (
    TERMINAL_STATUSES,
    Command,
    Event,
    LayerStats,
    ProblemInfo,
    RacerSpec,
    RacerStats,
    RaceStarted,
    RaceState,
    Snapshot,
)
from tui_optim.race.partition import effective_batch_size, lockstep_groups
from tui_optim.race.recorder import (
    HORIZON_EVERY_EPOCHS,
    Racer,
    Recorder,
    group_leader,
)
from tui_optim.race.weights import race_slugs, unique_slug, weight_file_stem
from tui_optim.scenario import RacerConfig, Scenario

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


# ------------------------------------------------------------------------------ the race
class RaceError(ValueError):
    """A race that cannot be built from its scenario (one-line message)."""


def build_problem(scenario: Scenario) -> tuple[Problem, ProblemInfo]:
    """The problem a scenario describes, and what a watcher needs to draw it."""
    if scenario.surface is not None:
        surface = get_surface(scenario.surface.function)
        surface_problem = SurfaceProblem(surface, scenario.surface.start)
        x0, x1, y0, y1 = surface.bounds
        info = ProblemInfo(
            kind="surface",
            description=f"{surface.name}: {surface.summary}",
            is_classification=False,
            surface=surface.name,
            bounds=(float(x0), float(x1), float(y0), float(y1)),
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
        has_validation=problem.has_validation,
    )
    return problem, info


class Race:
    """A whole race, advanced by :meth:`advance` and steered by :meth:`handle`.

    ``subset=(k, n)`` keeps only the racers whose lockstep group
    (:func:`~tui_optim.race.partition.lockstep_groups`) is ``k`` modulo ``n``: the runner
    uses it to split a big race over ``n`` processes. Racer ids stay those of the whole
    race, and new racers get ids ``>= 100_000 * (k + 1)``.
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
        self.pace: float | None = None
        self._build(scenario.seed)
        self.set_pace(pace)
        if paused:
            self.set_state("paused")

    # ---------------------------------------------------------------- building
    def _build(self, seed: int) -> None:
        self.seed = seed
        self.state: RaceState = "running"
        self.racers: dict[int, Racer] = {}
        #: Racers removed during the race, last removed last, each with its group row's
        #: state (None: it had left its group, diverged or failed), for :meth:`restore`.
        self.removed: list[tuple[Racer, dict[str, Any] | None]] = []
        self.groups: dict[tuple[int, int | None], Group] = {}
        self.events: list[Event] = []
        self.elapsed = 0.0
        self.running_since: float | None = time.perf_counter()
        #: Seconds spent training (see :meth:`training_clock`), and since when now.
        self.training_seconds = 0.0
        self._training_since: float | None = None
        self.pause_at_epoch: float | None = None
        self.next_id = 100_000 * (self.subset[0] + 1)
        self.initial: dict[int, np.ndarray] = {}
        self.recorder = Recorder(self.problem, self.scenario.target_loss)
        scenario = self.scenario
        # Computed from the whole scenario, so the processes of a split race agree.
        self.initial_slugs = race_slugs(scenario)
        groups = lockstep_groups(scenario)
        index = 0
        for repeat in range(scenario.repeats):
            repeat_seed = seed + repeat
            for position, config in enumerate(scenario.racers):
                if groups[index] % self.subset[1] == self.subset[0]:
                    slug = self.initial_slugs[position]
                    self.place(config, position, repeat, repeat_seed, racer_id=index, slug=slug)
                index += 1
        self.fingerprint = self._fingerprint()
        self._pace_from = (0.0, 0.0)

    def _initial_params(self, repeat_seed: int, start: tuple[float, float] | None) -> np.ndarray:
        """Where a racer of repeat ``repeat_seed`` with its own ``start`` (or None) begins;
        shared starts are computed once per repeat."""
        if start is not None:
            return np.asarray(
                self.problem.initial_params(repeat_seed, start), dtype=self.problem.dtype
            )
        if repeat_seed not in self.initial:
            self.initial[repeat_seed] = np.asarray(
                self.problem.initial_params(repeat_seed), dtype=self.problem.dtype
            ).reshape(-1)
        return self.initial[repeat_seed]

    def _group_for(self, repeat_seed: int, batch_size: int | None) -> Group:
        size = effective_batch_size(self.scenario, batch_size)
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

    def place(
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
        size = effective_batch_size(self.scenario, config.batch_size)
        if size and self.problem.uses_batches and cls.requires_full_batch(hparams):
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
        state["params"] = (
            self._initial_params(repeat_seed, config.start) if params is None else params
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
        digest.update(self.problem.data_identity())
        scenario = self.scenario
        starts = [c.start for c in scenario.racers if c.start is not None]
        sizes = {scenario.batch_size} | {
            c.batch_size or None for c in scenario.racers if c.batch_size is not None
        }
        for repeat in range(scenario.repeats):
            repeat_seed = self.seed + repeat
            digest.update(self.problem.start_identity(repeat_seed, starts))
            for size in sorted(sizes, key=lambda size: -1 if size is None else size):
                schedule = BatchSchedule(self.problem.n_train, size, scenario.shuffle, repeat_seed)
                for batch in schedule.epoch(0):
                    digest.update(b"all" if batch is None else np.asarray(batch).tobytes())
        return digest.hexdigest()[:10]

    # ---------------------------------------------------------------- queries
    def group_of(self, racer: Racer) -> Group:
        for group in self.groups.values():
            if racer in group.racers:
                return group
        raise KeyError(racer.id)

    def active_groups(self) -> list[Group]:
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
        """Seconds the race has been running (pauses excluded): the pace's clock."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + time.perf_counter() - self.running_since

    def training_clock(self) -> float:
        """Seconds spent training (in :meth:`advance`): a racer's seconds, its time to
        target and the history's seconds. Not the wall clock, which under a pace counts
        the waits between steps too and would make seconds a playback time."""
        since = self._training_since
        if since is None:
            return self.training_seconds
        return self.training_seconds + time.perf_counter() - since

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
    def set_state(self, state: RaceState) -> None:
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
        groups = self.active_groups()
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
        self._training_since = time.perf_counter()
        try:
            self._train(max_seconds)
        finally:
            self.training_seconds = self.training_clock()
            self._training_since = None

    def _train(self, max_seconds: float) -> None:
        deadline = time.perf_counter() + max_seconds
        with np.errstate(all="ignore"):
            while self.state == "running":
                groups = self.active_groups()
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
                    g.progress >= self.pause_at_epoch - 1e-9 for g in self.active_groups()
                ):
                    self.pause_at_epoch = None
                    self.set_state("paused")
                if time.perf_counter() >= deadline:
                    return

    def _finish(self) -> None:
        self.set_state("finished")
        # each racer measured against the best of its own group, as during the race
        leaders: dict[int, float] = {}
        for group in self.groups.values():
            best = group_leader(group)
            leaders.update((racer.id, best) for racer in group.racers)
        for racer in self.racers.values():
            leader = leaders.get(racer.id, math.nan)
            verdict = racer.monitor.finish(racer.steps, racer.epoch, racer.loss, leader)
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
                self.recorder.check_target(group, self.training_clock())
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
        verdicts = self.recorder.record(group, self.training_clock(), due)
        wall = self.clock()
        for racer in group.racers:
            racer.wall_seconds = wall
        for racer, verdict in verdicts:
            self._apply_verdict(racer, verdict, group.step, group.progress, racer.seconds)

    def rejudge(self, racer: Racer, why: str) -> None:
        """Start the racer's diagnosis afresh after a change that makes its past no
        evidence (a live hyperparameter edit): a status other than running is withdrawn,
        with ``why`` as the reason, until the monitor judges the racer again (a racer that
        had reached the target keeps its time to target, a fact)."""
        racer.monitor.reset()
        if racer.status != "running":
            group = self.group_of(racer)
            verdict = Verdict("running", why)
            self._apply_verdict(
                racer, verdict, group.step, group.progress, self.training_clock()
            )

    def _apply_verdict(
        self, racer: Racer, verdict: Verdict, step: int, epoch: float, seconds: float
    ) -> None:
        racer.status = verdict.status
        racer.reason = verdict.reason
        self.events.append(Event(racer.id, step, epoch, seconds, verdict.status, verdict.reason))
        if verdict.status in TERMINAL_STATUSES:
            self._freeze(racer)

    def _freeze(self, racer: Racer) -> None:
        """Take a diverged or failed racer out of its group, keeping its parameters."""
        try:
            group = self.group_of(racer)
        except KeyError:
            return
        racer.frozen_params = group.evaluation_row(racer).copy()
        entries = [(r, group.saved_state(r)) for r in group.racers if r is not racer]
        group.rebuild(entries)

    def _non_finite(self, group: Group, losses: np.ndarray) -> None:
        """Mark every racer whose loss is NaN/inf as diverged, naming the first bad layer."""
        seconds = self.training_clock()
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
        seconds = self.training_clock()
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
                        # A needs_closure family: its step takes the closure and losses.
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
            weight_norm = row_norms(weights)
            grad_norm = row_norms(group.grads[:, columns])
            with np.errstate(all="ignore"):
                ratio = row_norms(group.last_update[:, columns]) / weight_norm
            effective = np.abs(group.effective[:, columns]).mean(axis=1)
            state_norms: list[dict[str, float]] = [{} for _ in range(rows)]
            for block in group.blocks:
                for key, value in block.optimizer.state.items():
                    if value.ndim != 2 or value.shape[1] != self.problem.n_params:
                        continue
                    norms = row_norms(value[:, columns])
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
            # the pace the racer is seen to go at (the wall clock), not its training speed
            steps_per_s = racer.steps / racer.wall_seconds if racer.wall_seconds > 0 else 0.0
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
                    new_points=racer.take_points(self.problem.tracks_position),
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
        """Carry out ``command`` (see :mod:`tui_optim.race.commands`); returns the messages
        to send back (maybe none)."""
        return handle_command(self, command)

    def restart(self, seed: int) -> RaceStarted:
        """Build the race again from its scenario with ``seed``, keeping the pace."""
        self._build(seed)
        self.set_pace(self.pace)
        return self.started()

    def new_racer_id(self) -> int:
        """An id no racer of this race has (ids of a split race's processes never meet)."""
        used = set(self.racers)
        while self.next_id in used:
            self.next_id += 1
        self.next_id += 1
        return self.next_id - 1

    def remove(self, racer: Racer) -> None:
        """Take ``racer`` out of the race (its group is rebuilt without its row); it is kept
        for :meth:`restore`."""
        saved = None
        try:
            group = self.group_of(racer)
        except KeyError:
            pass
        else:
            saved = group.saved_state(racer)
            group.rebuild([(r, group.saved_state(r)) for r in group.racers if r is not racer])
        del self.racers[racer.id]
        self.removed.append((racer, saved))

    def restore(self) -> Racer:
        """Put the racer removed last back as it was when removed (weights, optimizer
        state, counters, status); ValueError when none was removed."""
        if not self.removed:
            raise ValueError("no removed racer to bring back")
        racer, saved = self.removed.pop()
        self.racers[racer.id] = racer
        if saved is not None:
            group = self._group_for(racer.spec.seed, racer.batch_size)
            group.rebuild([*((r, group.saved_state(r)) for r in group.racers), (racer, saved)])
        return racer

    def current_params(self, racer: Racer) -> np.ndarray:
        if racer.frozen_params is not None:
            return racer.frozen_params
        return self.group_of(racer).evaluation_row(racer)

    def racer_arrays(self, racer: Racer) -> dict[str, np.ndarray]:
        """A racer's parameters as named arrays: W1, b1, ... (Keras layout) or w."""
        return self.problem.named_arrays(self.current_params(racer))

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

