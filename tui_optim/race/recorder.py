"""Recording: when a race measures its racers, what it keeps, and the diagnosis it feeds.

Every group is evaluated on a cadence (:func:`evaluation_interval`): once an epoch, more
often when the race has fewer epochs than :data:`MIN_POINTS`. An evaluation is one
lockstep forward pass of all the group's rows over the whole training set (and the
validation set), so each racer's ``loss`` is the loss at its current weights (at its
optimizer's evaluation point, ``Optimizer.evaluation_params``: schedule-free methods report
and export the weights they average, not those they take gradients at), never a
mini-batch's; the mini-batch losses in between are averaged into ``batch_loss``. Every
``problem.sharpness_every`` evaluations the problem also estimates the loss's top Hessian
eigenvalue. Each evaluation is one history point and one observation of the racer's
:class:`~tui_optim.race.diagnosis.HealthMonitor`: every monitor records its racer's loss,
and those due for a judgement get a whole
:class:`~tui_optim.race.diagnosis.Observation` and are judged together
(:func:`~tui_optim.race.diagnosis.judge`: their windows' statistics in one NumPy pass).

Time to the target loss is exact where that is cheap: when a racer's loss, extrapolated
log-linearly from its last two evaluations, would reach the target within two more
evaluations (or is already within :data:`NEAR_TARGET` of it), its rows are evaluated after
every step until then (:meth:`Recorder.check_target`), so the crossing step itself is
found. A racer that crosses unseen (the prediction missed, or :data:`WATCH_WINDOWS` were
spent) gets the first evaluation at or below the target, marked not exact, with the last
step known above it (:class:`~tui_optim.race.messages.TimeToTarget`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tui_optim.engine.optimizers import Optimizer, get_optimizer
from tui_optim.engine.problems import Problem
from tui_optim.engine.schedules import Schedule
from tui_optim.race.diagnosis import (
    HealthMonitor,
    HealthSettings,
    Landscape,
    Observation,
    Verdict,
    judge,
)
from tui_optim.race.messages import (
    TERMINAL_STATUSES,
    HistoryChunk,
    LayerStats,
    RacerSpec,
    Status,
    TimeToTarget,
)

if TYPE_CHECKING:
    from tui_optim.race.group import Group

#: Fewest history points (and evaluations) a race of known length records.
MIN_POINTS = 200
#: Diagnosis of loss trends: judged every 4th evaluation (a window still holds the last 20
#: points), which keeps its cost a few percent of a race of small networks.
TREND_SETTINGS = HealthSettings(classify_every=4, confirm=2)
#: Training sets larger than this are evaluated at most once an epoch.
LARGE_TRAINING_SET = 1000
#: A racer whose loss is within this factor of the target is watched step by step.
NEAR_TARGET = 1.25
#: Evaluation intervals a racer may be watched step by step (a racer hovering just above
#: the target must not make every step of the race an evaluation).
WATCH_WINDOWS = 4
#: Time series: the prediction horizon is measured every this many epochs and at the end.
HORIZON_EVERY_EPOCHS = 10
#: The columns of a history point, in :class:`HistoryChunk` order.
POINT_FIELDS = (
    "step",
    "epoch",
    "seconds",
    "loss",
    "batch_loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "grad_norm",
    "update_ratio",
    "sharpness",
    "grad_evals",
)


def evaluation_interval(steps_per_epoch: int, total_steps: int, n_train: int) -> int:
    """Steps between two evaluations: about :data:`MIN_POINTS` per race, at epoch ends
    when an epoch is shorter than that spacing; for a large training set (over
    :data:`LARGE_TRAINING_SET` examples, where a forward pass over all of it costs many
    steps) once an epoch."""
    if total_steps <= 0 or n_train > LARGE_TRAINING_SET:
        return max(1, steps_per_epoch)
    interval = max(1, total_steps // MIN_POINTS)
    if interval >= steps_per_epoch:  # whole epochs: points at epoch ends
        return interval // steps_per_epoch * steps_per_epoch
    return interval


def group_leader(group: Group) -> float:
    """The lowest loss among ``group``'s racers (NaN: none finite): "the best racer" a
    racer is measured against is the best of its own group, at the same step, a figure that
    does not depend on how far other groups (other seeds or batch sizes) had got, or on
    which engine process holds them (race/partition.py keeps groups whole)."""
    finite = [racer.loss for racer in group.racers if math.isfinite(racer.loss)]
    return min(finite) if finite else math.nan


def landscape_of(problem: Problem) -> Landscape:
    return Landscape(problem.minima, problem.unbounded_below, problem.length_scale)


@dataclass(eq=False)  # identity: racers are found in lists by `is`
class Racer:
    """One racer's configuration and running figures (the race's bookkeeping)."""

    spec: RacerSpec
    hparams: dict[str, Any]
    schedule: Schedule | None
    batch_size: int | None  # None: the scenario's
    monitor: HealthMonitor
    status: Status = "running"
    reason: str = ""
    steps: int = 0
    epoch: float = 0.0
    seconds: float = 0.0  # training seconds at the last evaluation (Race.training_clock)
    wall_seconds: float = 0.0  # the race's running seconds then (Race.clock)
    grad_evals: int = 0  # gradient evaluations (L-BFGS and SAM make several per step)
    loss: float = math.nan  # whole training set, at the last evaluation
    batch_loss: float = math.nan  # the last mini-batch's
    val_loss: float | None = None
    accuracy: float | None = None
    val_accuracy: float | None = None
    best_loss: float = math.inf
    grad_norm: float = math.nan
    update_norm: float = math.nan
    update_ratio: float = math.nan
    effective_step: float = math.nan
    sharpness: float | None = None
    #: The last sharpness estimate's eigenvector (warm start of the next one).
    curvature_vector: np.ndarray | None = None
    position: tuple[float, float] | None = None
    horizon: float | None = None  # time series: steps predicted ahead (see MLPProblem.horizon)
    time_to_target: TimeToTarget | None = None
    #: The last step at which the loss was known to be above the target (0: the start).
    above_target_at: int = 0
    #: Evaluation intervals spent watching for the target step by step.
    watch_windows: int = 0
    layers: tuple[LayerStats, ...] = ()
    #: Parameters of a racer that left its group (diverged or failed), for export.
    frozen_params: np.ndarray | None = None
    pending: list[tuple[float, ...]] = field(default_factory=list)
    pending_positions: list[tuple[float, float]] = field(default_factory=list)
    #: stability() of the hyperparameter dict it was computed for (kept, so `is` is exact).
    _stability: tuple[float, str] | None = field(default=None, repr=False)
    _stability_of: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        return self.spec.id

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def stability(self) -> tuple[float, str] | None:
        """The optimizer's stability threshold at this racer's present learning rate."""
        if self.schedule is None and self._stability_of is self.hparams:
            return self._stability  # unchanged hyperparameters (an edit replaces the dict)
        hparams = dict(self.hparams)
        if self.schedule is not None and "lr" in hparams:
            hparams["lr"] = float(hparams["lr"]) * self.schedule.factor(max(self.steps, 1))
        cls = get_optimizer(self.spec.optimizer, self.spec.flavor)
        self._stability = cls.stability_threshold(hparams)
        self._stability_of = self.hparams
        return self._stability

    def take_points(self, with_position: bool) -> HistoryChunk:
        """The history points recorded since the last call, as parallel arrays."""
        width = len(POINT_FIELDS)
        points = np.array(self.pending, dtype=np.float64).reshape(-1, width)
        positions = None
        if with_position:
            positions = np.array(self.pending_positions, dtype=np.float64).reshape(-1, 2)
        self.pending.clear()
        self.pending_positions.clear()
        columns = {name: points[:, i].copy() for i, name in enumerate(POINT_FIELDS)}
        return HistoryChunk(**columns, position=positions)


def crossed_at(time_to_target: TimeToTarget | None) -> tuple[int, float] | None:
    """The step and epoch of an exactly seen crossing of the target (else None)."""
    if time_to_target is None or not time_to_target.exact:
        return None
    return time_to_target.steps, time_to_target.epochs


class Recorder:
    """Evaluates groups on their cadence, records history points and runs the diagnosis.

    ``evaluation_seconds`` adds up the CPU time of the whole-training-set evaluations,
    ``diagnosis_seconds`` that of the sharpness estimates and the monitors, so a benchmark
    can compare them with the whole race's CPU time (validation and recording are not
    counted: a race measured them before it had either). CPU time, not a wall clock: other
    work on a shared machine then does not skew the ratio.
    """

    def __init__(self, problem: Problem, target_loss: float | None):
        self.problem = problem
        self.target_loss = target_loss
        self.landscape = landscape_of(problem)
        self.evaluation_seconds = 0.0
        self.diagnosis_seconds = 0.0
        #: id(group) -> its racers watched step by step for the target (see the module).
        self.watched: dict[int, list[Racer]] = {}

    def monitor(self, optimizer: type[Optimizer]) -> HealthMonitor:
        """A fresh monitor for a racer of ``optimizer`` (its class, in its flavor)."""
        return HealthMonitor(
            self.target_loss,
            landscape=self.landscape,
            shrinking_step=optimizer.shrinking_step,
            unit="step" if self.landscape.length_scale is not None else "epoch",
            settings=None if self.landscape.length_scale is not None else TREND_SETTINGS,
        )

    def watching(self, group: Group) -> bool:
        """Whether ``group`` has racers to check for the target after every step."""
        return bool(self.watched.get(id(group)))

    def check_target(self, group: Group, seconds: float) -> None:
        """After a step without an evaluation: the watched racers' whole-training-set loss,
        and the exact step at which one reaches the target."""
        clock = time.process_time()
        watched = [r for r in self.watched.get(id(group), []) if r in group.racers]
        rows = [group.row_of(racer) for racer in watched]
        if not rows:
            self.watched.pop(id(group), None)
            return
        losses = self.problem.evaluate(group.evaluation_params()[rows], "train").loss
        target = self.target_loss
        assert target is not None
        still = []
        for racer, row, loss in zip(watched, rows, losses, strict=True):
            if loss <= target:
                self._reached(racer, group.step, group.progress, seconds, group.grad_evals[row])
            else:
                racer.above_target_at = group.step
                still.append(racer)
        self.watched[id(group)] = still
        self.evaluation_seconds += time.process_time() - clock

    def _reached(
        self, racer: Racer, step: int, epoch: float, seconds: float, grad_evals: int
    ) -> None:
        exact = racer.above_target_at == step - 1
        racer.time_to_target = TimeToTarget(
            step,
            epoch,
            seconds,
            int(grad_evals),
            exact=exact,
            after=None if exact else racer.above_target_at,
        )

    def _watch(self, group: Group, racer: Racer, previous: float) -> None:
        """After an evaluation above the target: watch ``racer`` step by step until the
        next evaluation when it is near the target or its trend says it will get there."""
        target = self.target_loss
        assert target is not None
        loss = racer.loss
        near = loss <= NEAR_TARGET * target
        falling = math.isfinite(previous) and 0 < loss < previous
        # two intervals ahead: a fall often speeds up (a loss leaving a plateau)
        predicted = falling and loss * (loss / previous) ** 2 <= target
        watched = self.watched.setdefault(id(group), [])
        if (near or predicted) and racer.watch_windows < WATCH_WINDOWS:
            racer.watch_windows += 1
            if racer not in watched:
                watched.append(racer)
        elif racer in watched:
            watched.remove(racer)

    def record(
        self, group: Group, seconds: float, horizon_due: bool
    ) -> list[tuple[Racer, Verdict]]:
        """Evaluate ``group`` at its current weights (after the step just taken; each row at
        its optimizer's evaluation point), record one history point per racer and observe
        it; returns the status changes."""
        clock = time.process_time()
        problem = self.problem
        params = group.evaluation_params()
        train = problem.evaluate(params, "train")
        self.evaluation_seconds += time.process_time() - clock
        val_loss = val_accuracy = horizon = None
        if problem.has_validation:
            evaluation = problem.evaluate(params, "val")
            val_loss, val_accuracy = evaluation.loss, evaluation.accuracy
        if problem.has_horizon and horizon_due:
            horizon = problem.horizon(params)
        sharpness = None
        clock = time.process_time()
        # not at the first evaluations: the curvature of the initial weights explains nothing
        if (group.evaluations + 1) % problem.sharpness_every == 0:
            # only where it explains something: rows whose optimizer has a threshold
            rows = [row for row, r in enumerate(group.racers) if r.stability() is not None]
            if rows:
                vectors = [group.racers[row].curvature_vector for row in rows]
                known = [v for v in vectors if v is not None]
                start = np.stack(known) if len(known) == len(vectors) else None
                values, new_vectors = problem.sharpness(params[rows], start)
                sharpness = np.full(len(group.racers), np.nan)
                sharpness[rows] = values
                for index, row in enumerate(rows):
                    group.racers[row].curvature_vector = new_vectors[index]
        group.evaluations += 1
        self.diagnosis_seconds += time.process_time() - clock

        figures = group.measure()
        batch_mean = group.loss_sum / max(group.loss_count, 1)
        group.loss_sum[:] = 0.0
        group.loss_count = 0
        step, epoch = group.step, group.progress
        target = self.target_loss
        previous = [racer.loss for racer in group.racers]
        for row, racer in enumerate(group.racers):
            racer.loss = float(train.loss[row])
        leader = group_leader(group)
        verdicts: list[tuple[Racer, Verdict]] = []
        for row, racer in enumerate(group.racers):
            racer.steps, racer.epoch, racer.seconds = step, epoch, seconds
            racer.grad_evals = int(group.grad_evals[row])
            racer.grad_norm = float(figures["grad_norm"][row])
            racer.update_norm = float(figures["update_norm"][row])
            racer.update_ratio = float(figures["update_ratio"][row])
            racer.effective_step = float(figures["effective_step"][row])
            if math.isfinite(racer.loss):
                racer.best_loss = min(racer.best_loss, racer.loss)
            if self.problem.tracks_position:
                racer.position = (float(params[row, 0]), float(params[row, 1]))
                racer.pending_positions.append(racer.position)
            row_val = math.nan if val_loss is None else float(val_loss[row])
            if val_loss is not None:
                racer.val_loss = row_val
            row_val_accuracy = math.nan
            if val_accuracy is not None:
                racer.val_accuracy = row_val_accuracy = float(val_accuracy[row])
            if horizon is not None:
                racer.horizon = float(horizon[row])
            accuracy = math.nan
            if train.accuracy is not None:
                racer.accuracy = accuracy = float(train.accuracy[row])
            if sharpness is not None:
                value = float(sharpness[row])
                racer.sharpness = value if math.isfinite(value) else None
            racer.pending.append(
                (
                    step,
                    epoch,
                    seconds,
                    racer.loss,
                    float(batch_mean[row]),
                    row_val,
                    accuracy,
                    row_val_accuracy,
                    racer.grad_norm,
                    racer.update_ratio,
                    math.nan if sharpness is None else float(sharpness[row]),
                    racer.grad_evals,
                )
            )
            if target is not None and racer.time_to_target is None:
                if racer.loss <= target:
                    self._reached(racer, step, epoch, seconds, racer.grad_evals)
                    if racer in self.watched.get(id(group), ()):
                        self.watched[id(group)].remove(racer)
                else:
                    racer.above_target_at = step
                    self._watch(group, racer, previous[row])
        # the monitors in one timed stretch (a CPU clock read costs a microsecond, two per
        # racer would add a tenth to what they measure): each keeps its racer's figures, and
        # only those due for a judgement get an Observation, judged together
        clock = time.process_time()
        due = [
            row
            for row, racer in enumerate(group.racers)
            if racer.monitor.record(
                epoch, racer.loss, racer.position, racer.grad_norm, racer.effective_step
            )
        ]
        if due:
            batch_losses, param_norms = batch_mean.tolist(), figures["param_norm"].tolist()
            val_losses = [math.nan] * len(batch_losses) if val_loss is None else val_loss.tolist()
            entries: list[tuple[HealthMonitor, Observation]] = []
            for row in due:
                racer = group.racers[row]
                observation = Observation(
                    step=step,
                    epoch=epoch,
                    seconds=seconds,
                    loss=racer.loss,
                    batch_loss=batch_losses[row],
                    val_loss=val_losses[row],
                    grad_norm=racer.grad_norm,
                    update_norm=racer.update_norm,
                    param_norm=param_norms[row],
                    effective_step=racer.effective_step,
                    position=racer.position,
                    sharpness=math.nan if racer.sharpness is None else racer.sharpness,
                    stability=racer.stability(),
                    leader_loss=leader,
                    crossed=crossed_at(racer.time_to_target),
                )
                entries.append((racer.monitor, observation))
            for row, verdict in zip(due, judge(entries), strict=True):
                if verdict is not None:
                    verdicts.append((group.racers[row], verdict))
        self.diagnosis_seconds += time.process_time() - clock
        return verdicts
