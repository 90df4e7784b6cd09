"""Lockstep groups: racers that share a batch schedule, stepped by one batched pass.

A :class:`Group` keeps every racer's parameters as one ``(R, P)`` array, so one batched
forward/backward pass of the problem serves all of them. Within a group, racers of the same
optimizer family and structural flags are contiguous rows and form a :class:`Block` that one
vectorised optimizer update serves. The race (:mod:`tui_optim.race.race`) owns the groups
and decides which one steps next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tui_optim.engine.data import BatchSchedule
from tui_optim.engine.optimizers import Optimizer, get_optimizer
from tui_optim.engine.optimizers.base import Closure
from tui_optim.engine.problems import Problem
from tui_optim.engine.schedules import Schedule
from tui_optim.race.recorder import Racer, evaluation_interval


def row_norms(array: np.ndarray) -> np.ndarray:
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
                # A needs_closure family: its step takes the closure and losses too.
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
        param_norm = row_norms(self.params)
        update_norm = row_norms(self.last_update)
        effective = np.empty(len(self.racers))
        for block in self.blocks:
            step = np.broadcast_to(block.optimizer.effective_step(), block.params.shape)
            self.effective[block.start : block.stop] = step
            effective[block.start : block.stop] = np.abs(step).mean(axis=1)
        with np.errstate(all="ignore"):
            ratio = update_norm / param_norm
        return {
            "grad_norm": row_norms(self.grads),
            "update_norm": update_norm,
            "param_norm": param_norm,
            "update_ratio": ratio,
            "effective_step": effective,
        }


