"""Diagnosis: turn a racer's measurements into status changes with reasons in numbers.

A :class:`HealthMonitor` takes one observation per evaluation point: the loss on the whole
training set at the current weights (never a mini-batch's), the last gradient, the step,
the loss's sharpness when it was estimated, and the loss of the best racer. Which rules
apply depends on what the problem knows (:class:`Landscape`): a problem with a geometry (a
2-D surface: a length scale, maybe known minima) is judged by where the racer is and how it
moves; any other by the trend of its loss against the noise of that loss.

An observation is taken in two parts. :meth:`HealthMonitor.record` keeps the few figures
every observation adds (the loss into a window of the last :attr:`HealthSettings.window`,
its epoch and position, the best loss, the plateau) and says whether this one is to be
judged (every :attr:`HealthSettings.classify_every` observations, on reaching the target,
at a non-finite loss); only then is a whole :class:`Observation` built and judged
(:meth:`HealthMonitor.judge`). What a judgement reads from the window (the trend and its
noise, reversals, rises, the lowest loss) is computed for many windows at once by
:func:`~tui_optim.race.window_stats.window_stats` (race/window_stats.py); :func:`judge`
judges a lockstep group's due racers that way (the recorder), and
:meth:`HealthMonitor.observe` does both parts for a single racer.

    running      none of the below
    converged    below the target loss; with no target, settled (point problems: a tiny
                 gradient and f stopped changing), and not behind the best racer or
                 below ``good_fraction`` of its initial loss
    stalled      no progress beyond the noise while behind the best racer or the target
                 (point problems: hardly moving although the gradient is not small)
    oscillating  the loss goes up and down without net progress (point problems: the steps
                 reverse direction); explained by the curvature when the optimizer has a
                 stability threshold ("sharpness 48 > 2/lr = 20")
    diverging    the loss rises beyond its noise, grows tenfold, runs away to -inf on a
                 function unbounded below, or the racer left the basin of its best point
    diverged     non-finite values, or the loss far above its best (final)
    error        the optimizer's update raised (final)
    finished     still running when the race used up its epochs or steps (see :meth:`finish`)

Hysteresis: a new status must be what the rules say for :attr:`HealthSettings.confirm`
observations in a row before it is reported, and going back to the status held before the
current one takes a whole window, so a racer never alternates A -> B -> A -> B. "diverged",
"error" and reaching the target are facts and are reported at once; "converged" holds
unless the racer starts diverging.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from tui_optim.race.messages import TERMINAL_STATUSES, Status
from tui_optim.race.window_stats import WindowStats, reversals, window_stats


def format_number(value: float) -> str:
    """Two significant digits: 3e-05, 0.012, 4.5, 1.2e+03."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2g}"


def format_apart(value: float, reference: float, fewest: int = 2) -> str:
    """``value`` with as many digits (``fewest`` to 6) as it takes to differ from
    ``reference`` formatted the same way: "0.0498 is below 0.05", never "0.05 is below
    0.05"."""
    for digits in range(fewest, 7):
        shown = f"{value:.{digits}g}"
        if shown != f"{reference:.{digits}g}":
            return shown
    return shown


def format_point(point: tuple[float, float] | np.ndarray) -> str:
    return f"({point[0]:.3f}, {point[1]:.3f})"


class Observation(NamedTuple):
    """One evaluation point of one racer, as a judgement reads it (a named tuple: a frozen
    dataclass costs four times as much to build, and the recorder builds one per racer
    judged)."""

    step: int
    epoch: float
    seconds: float
    loss: float  # on the whole training set at the current weights
    batch_loss: float = math.nan
    val_loss: float = math.nan
    grad_norm: float = math.nan
    update_norm: float = math.nan
    param_norm: float = math.nan
    effective_step: float = math.nan
    #: The parameters, for problems with a geometry (a surface's point).
    position: tuple[float, float] | None = None
    #: Top Hessian eigenvalue at the last estimate (NaN: not estimated yet).
    sharpness: float = math.nan
    #: The optimizer's stability threshold and its formula ("2/lr"), if it has one.
    stability: tuple[float, str] | None = None
    #: The lowest current loss among the race's racers (NaN: not known).
    leader_loss: float = math.nan
    #: The step and epoch at which the loss was seen to cross the target, when that was
    #: between evaluations (the recorder watches a racer near it step by step).
    crossed: tuple[int, float] | None = None


#: A status's reason, formatted only when the status is reported (most judgements repeat
#: the status held, and their text would be thrown away).
Reason = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    reason: str


@dataclass(frozen=True)
class Landscape:
    """What the problem knows about its loss (from the Problem, see engine.problems)."""

    minima: tuple[tuple[float, float], ...] = ()
    unbounded_below: bool = False
    #: What "far" means in parameter space; None for problems without a geometry.
    length_scale: float | None = None


@dataclass(frozen=True)
class HealthSettings:
    """Thresholds of the diagnosis (relative, so they hold across problems)."""

    #: Observations a trend is judged over.
    window: int = 20
    #: Consecutive judgements a new status must hold before it is reported.
    confirm: int = 5
    #: Judge every this many observations (the others only feed the window).
    classify_every: int = 1
    #: |t| of the loss's trend (slope over its standard error) that counts as a real trend.
    significant: float = 3.0
    #: A significant rise of the loss by this fraction over the window: diverging.
    rising_fraction: float = 0.1
    #: Loss above best * this (and above 10 x the initial loss): diverged.
    diverge_factor: float = 1e3
    #: Loss growth over the window that counts as diverging.
    growth_factor: float = 10.0
    #: A rise smaller than this fraction of the initial loss is rounding, never a trend (a
    #: loss at 1e-19 that "grows tenfold" to 1e-18 has not started to diverge).
    negligible_fraction: float = 1e-9
    #: Residual noise of the loss, relative to its level, from which up-and-down is an
    #: oscillation rather than rounding.
    oscillation_noise: float = 0.05
    #: Fraction of successive moves that must reverse for an oscillation.
    oscillation_fraction: float = 0.6
    #: Behind the reference (best racer or target) by more than this fraction: behind.
    behind_fraction: float = 0.1
    #: Progress over the window below this fraction of the level is tiny.
    tiny_progress: float = 0.001
    #: Stalled when closing the gap at the present pace would take more windows than this.
    stall_windows: float = 100.0
    #: Settled: the loss changed by less than this fraction of its level over the window.
    settled_fraction: float = 0.005
    #: With no target, a loss below this fraction of the initial one is "good".
    good_fraction: float = 0.05
    #: Point problems: converged when |gradient| is below this fraction of the first one...
    tiny_gradient: float = 1e-3
    #: ... and f changed by less than this fraction of its range over the window.
    still_fraction: float = 1e-7
    #: Point problems: stalled when the racer moved less than this fraction of the length
    #: scale over the window while the gradient is not tiny.
    still_motion: float = 1e-4
    #: Point problems: left the basin when this fraction of the length scale away from the
    #: best point, with f well above the best.
    basin_fraction: float = 0.1
    #: Functions unbounded below: f below -this x max(1, |f0|) and falling is a runaway.
    runaway_factor: float = 1e3
    #: After converging, a rise above the converged loss by this fraction of the way the
    #: loss came down (initial to best), and to over ten times that loss, is an excursion
    #: the final reason reports (too brief to be diverging, too large to leave unsaid).
    excursion_fraction: float = 1e-3


def judge(entries: Sequence[tuple[HealthMonitor, Observation]]) -> list[Verdict | None]:
    """Judge each monitor's latest observation (after :meth:`HealthMonitor.record` said it
    is due), with the statistics of the windows that are read computed at once."""
    stats: list[WindowStats | None] = [None] * len(entries)
    reading: dict[bool, list[int]] = {}  # with the trend or without: entries
    for index, (monitor, obs) in enumerate(entries):
        if monitor.reads_window(obs):
            reading.setdefault(monitor.reads_trend(obs), []).append(index)
    for trend, indices in reading.items():
        windows = [entries[index][0].window for index in indices]
        for index, row_stats in zip(indices, window_stats(windows, trend), strict=True):
            stats[index] = row_stats
    return [
        monitor.judge(obs, row_stats)
        for (monitor, obs), row_stats in zip(entries, stats, strict=True)
    ]


@dataclass(slots=True)
class _Memory:
    """What a monitor keeps between observations."""

    #: The last :attr:`HealthSettings.window` losses, their epochs and positions.
    losses: deque[float]
    epochs: deque[float]
    positions: deque[tuple[float, float] | None]
    initial_loss: float = math.nan
    initial_grad_norm: float = math.nan
    best: float = math.inf
    best_position: tuple[float, float] | None = None
    best_epoch: float = 0.0
    first_effective_step: float = math.nan
    #: 1% under the last loss level that was a meaningful improvement (a loss below it is
    #: the next), and when that level was reached (stalls are "since").
    plateau_below: float = math.inf
    plateau_epoch: float = 0.0
    statuses: list[Status] = field(default_factory=lambda: ["running"])
    #: Observations taken, and the observation count at each reported change.
    count: int = 0
    changes: list[int] = field(default_factory=list)
    #: The last reported change's reason and loss, and, while converged, the highest loss
    #: since with its epoch (an excursion, see ``excursion_fraction``).
    reported_reason: str = ""
    reported_loss: float = math.nan
    excursion: tuple[float, float] | None = None


class HealthMonitor:
    """The status of one racer, updated by :meth:`observe` (see the module docstring).

    ``shrinking_step``: the optimizer's reason its step only shrinks (a stall's likely
    cause), from the optimizer class; ``landscape``: what the problem knows.
    """

    def __init__(
        self,
        target_loss: float | None,
        *,
        landscape: Landscape | None = None,
        shrinking_step: str | None = None,
        unit: str = "epoch",
        settings: HealthSettings | None = None,
    ):
        self.target_loss = target_loss
        self.landscape = landscape or Landscape()
        self.shrinking_step = shrinking_step
        self.unit = unit
        self.settings = settings or HealthSettings()
        self.reset()

    def reset(self) -> None:
        """Forget the past (after a restart or a hyperparameter change)."""
        self.status: Status = "running"
        window = self.settings.window
        self.memory = _Memory(deque(maxlen=window), deque(maxlen=window), deque(maxlen=window))
        self._candidate: Status = "running"
        self._candidate_count = 0

    @property
    def best(self) -> float:
        return self.memory.best

    @property
    def window(self) -> deque[float]:
        """The last :attr:`HealthSettings.window` losses, oldest first."""
        return self.memory.losses

    # ---------------------------------------------------------------- events
    def non_finite(self, step: int, epoch: float, seconds: float, what: str) -> Verdict:
        """The loss or a parameter/gradient became NaN or inf: final."""
        self.status = "diverged"
        return Verdict(
            "diverged", f"diverged at step {step} (epoch {epoch:g}): {what} became NaN or inf"
        )

    def failed(self, step: int, epoch: float, message: str) -> Verdict:
        """The optimizer update raised: final."""
        self.status = "error"
        return Verdict("error", f"error at step {step} (epoch {epoch:g}): {message}")

    def finish(
        self, step: int, epoch: float, loss: float, leader_loss: float = math.nan
    ) -> Verdict | None:
        """The race ran out of epochs or steps: a racer still "running" becomes "finished",
        or, in a race too short for a trend (:meth:`_short_race_verdict`), what its few
        evaluations show. ``leader_loss``: the best racer's loss at the end.

        Every other status is already a diagnosis and stays, so a finished race never shows
        a racer as still running.
        """
        if self.status == "converged":
            return self._excursion_verdict(loss)
        if self.status in ("stalled", "oscillating", "diverging"):
            return self._since_verdict(loss)
        if self.status != "running":
            return None
        short = self._short_race_verdict(epoch, loss, leader_loss)
        if short is not None:
            self.status = short.status
            self.memory.statuses.append(short.status)
            return short
        self.status = "finished"
        if self.landscape.length_scale is not None:  # a surface: one step is one epoch
            reason = (
                f"finished at step {step}: f = {format_number(loss)}, "
                f"best {format_number(self.memory.best)}"
            )
        else:
            reason = (
                f"finished at epoch {epoch:g} (step {step}): loss {format_number(loss)}, "
                f"best {format_number(self.memory.best)}"
            )
        if self.target_loss is not None:
            reason += f", target {format_number(self.target_loss)} not reached"
        return Verdict("finished", reason)

    def _excursion_verdict(self, loss: float) -> Verdict | None:
        """A converged racer whose loss later jumped without diverging: the same status,
        its reason completed with the jump (RMSprop's step, which does not shrink with the
        gradient, can throw it out of a minimum it finds again)."""
        memory = self.memory
        if memory.excursion is None:
            return None
        peak, when = memory.excursion
        return Verdict(
            "converged",
            f"{memory.reported_reason}; then {self._quantity} jumped to {format_number(peak)} at "
            f"{self.unit} {when:g} and ended at {format_number(loss)}",
        )

    def _since_verdict(self, loss: float) -> Verdict | None:
        """A racer stalled, oscillating or diverging whose loss has since fallen to under
        half of what it was then: the same status (the rules never saw a window that said
        otherwise), its reason completed with the fall, so the badge is not read as the
        whole story of a curve that ended far lower."""
        memory = self.memory
        then = memory.reported_loss
        if not (then > 0 and 0 <= loss < 0.5 * then) or not memory.reported_reason:
            return None
        return Verdict(
            self.status,
            f"{memory.reported_reason}; by the end {self._quantity} had fallen from "
            f"{format_number(then)} to {format_number(loss)}",
        )

    def _short_race_verdict(
        self, epoch: float, loss: float, leader_loss: float
    ) -> Verdict | None:
        """At the end of a race with fewer evaluations than a trend needs (half a window; a
        5-epoch race on a large training set has 5): the loss ended well above its first
        evaluation (diverging), or has not improved on its best for the last two or more
        evaluations while far behind the best racer or the target (stalled). None for a
        problem with a geometry (judged every step) or a longer history."""
        s = self.settings
        memory = self.memory
        losses, epochs = memory.losses, memory.epochs
        count = len(losses)
        if self.landscape.length_scale is not None or not 3 <= memory.count < s.window // 2:
            return None
        few = f"{count} evaluations, too few for a trend"
        first = losses[0]
        if first > 0 and loss > (1 + s.rising_fraction) * first:
            peak_index = max(range(count), key=losses.__getitem__)
            peak = (
                f"peak {format_number(losses[peak_index])} at epoch {epochs[peak_index]:g}, "
                if losses[peak_index] > loss
                else ""
            )
            return Verdict(
                "diverging",
                f"diverging at the end (epoch {epoch:g}): the loss rose from "
                f"{format_number(first)} at epoch {epochs[0]:g} to {format_number(loss)} "
                f"({peak}best {format_number(memory.best)}); {few}",
            )
        best_index = min(range(count), key=losses.__getitem__)
        since = count - 1 - best_index
        reference, who = (
            (self.target_loss, "the target")
            if self.target_loss is not None
            else (leader_loss, "the best racer")
        )
        gap = loss - reference
        if (
            since >= 2
            and math.isfinite(reference)
            and gap > s.behind_fraction * max(abs(reference), 1e-12)
        ):
            return Verdict(
                "stalled",
                # three digits at least: "its best 2" would read as a whole number
                f"stalled since epoch {epochs[best_index]:g}: the loss "
                f"{format_apart(loss, memory.best, 3)} has not gone below its best "
                f"{format_apart(memory.best, loss, 3)} in the last {since} evaluations, "
                f"{gap:.3g} above {who} ({format_number(reference)}); {few}",
            )
        return None

    def observe(self, obs: Observation) -> Verdict | None:
        """Take one observation; return a verdict when the status changes.

        For many racers at once, :meth:`record` each one's figures and :func:`judge` the
        due ones together: the same verdicts, at a fraction of the cost.
        """
        if not self.record(obs.epoch, obs.loss, obs.position, obs.grad_norm, obs.effective_step):
            return None
        if not self.reads_window(obs):
            return self.judge(obs, None)
        return self.judge(obs, window_stats([self.window], self.reads_trend(obs))[0])

    def record(
        self,
        epoch: float,
        loss: float,
        position: tuple[float, float] | None = None,
        grad_norm: float = math.nan,
        effective_step: float = math.nan,
    ) -> bool:
        """Keep one observation's figures; whether it is to be judged now (every
        :attr:`HealthSettings.classify_every` observations, at the target unless already
        converged there, and at a non-finite loss), by :meth:`judge` with its
        :class:`Observation`."""
        if self.status in TERMINAL_STATUSES:
            return False
        if not math.isfinite(loss):
            return True
        memory = self.memory
        if memory.count == 0:
            memory.initial_loss, memory.initial_grad_norm = loss, grad_norm
            memory.first_effective_step = effective_step
        memory.losses.append(loss)
        memory.epochs.append(epoch)
        memory.positions.append(position)
        memory.count += 1
        if loss < memory.best:
            memory.best, memory.best_epoch, memory.best_position = loss, epoch, position
        if loss < memory.plateau_below:
            memory.plateau_below = loss - 0.01 * max(abs(loss), 1e-12)
            memory.plateau_epoch = epoch
        if self.status == "converged":
            self._watch_excursion(epoch, loss)
        target = self.target_loss
        if target is not None and loss <= target:
            # converged at once; once converged, nothing to judge while it stays there
            return self.status != "converged" or self._blown_up(loss)
        return memory.count % self.settings.classify_every == 0

    def _watch_excursion(self, epoch: float, loss: float) -> None:
        memory = self.memory
        rise = loss - memory.reported_loss
        if (
            rise > self.settings.excursion_fraction * (memory.initial_loss - memory.best)
            and rise > 9 * abs(memory.reported_loss)
            and (memory.excursion is None or loss > memory.excursion[0])
        ):
            memory.excursion = (loss, epoch)

    def reads_window(self, obs: Observation) -> bool:
        """Whether judging ``obs`` reads the window's statistics: not for a non-finite loss
        or one at the target, which are facts."""
        target = self.target_loss
        return (
            self.status not in TERMINAL_STATUSES
            and math.isfinite(obs.loss)
            and (target is None or obs.loss > target)
        )

    def reads_trend(self, obs: Observation) -> bool:
        """Whether judging ``obs`` reads the trend of the window's losses (a problem with a
        geometry is judged by the positions instead)."""
        return self.landscape.length_scale is None or obs.position is None

    def judge(self, obs: Observation, stats: WindowStats | None) -> Verdict | None:
        """Judge the observation just recorded; return a verdict when the status changes.

        ``stats``: :func:`window_stats` of :attr:`window` (with the trend when
        :meth:`reads_trend`), when :meth:`reads_window` (else None).
        """
        if self.status in TERMINAL_STATUSES:
            return None
        if not math.isfinite(obs.loss):
            return self.non_finite(obs.step, obs.epoch, obs.seconds, "the loss")
        memory = self.memory
        target = self.target_loss
        reached = target is not None and obs.loss <= target
        status, reason = self._classify(obs, stats)
        target_met = status == "converged" and reached
        if status == "diverged" or target_met:
            return self._switch(status, reason)
        if status != self._candidate:
            self._candidate, self._candidate_count = status, 0
        self._candidate_count += 1
        if status == self.status:
            return None
        # Going back to the status held before the current one takes a whole window, and
        # twice as long for every earlier return: a racer on the line between two
        # diagnoses settles on one instead of alternating.
        returns = sum(
            1
            for before, after in itertools.pairwise(memory.statuses[:-1])
            if {before, after} == {self.status, status}
        )
        returning = len(memory.statuses) >= 2 and memory.statuses[-2] == status
        if returning and returns and status != "diverging":
            return None  # A -> B -> A happened once; A -> B -> A -> B never does
        windows = self.settings.window // self.settings.classify_every
        needed = windows * 2**returns if returning else self.settings.confirm
        # Every change in the last few windows doubles the evidence the next one needs.
        horizon = memory.count - 5 * self.settings.window
        needed *= 2 ** sum(1 for when in memory.changes if when > horizon)
        if self._candidate_count < needed:
            return None
        if self.status == "converged" and status != "diverging":
            # Converged holds: a racer that keeps improving slowly, or jitters at the
            # bottom of its valley, has not lost anything.
            return None
        return self._switch(status, reason)

    def _switch(self, status: Status, reason: Reason) -> Verdict | None:
        if status == self.status:
            return None
        self.status = status
        memory = self.memory
        memory.statuses.append(status)
        memory.changes.append(memory.count)
        verdict = Verdict(status, reason())
        memory.reported_reason, memory.reported_loss = verdict.reason, memory.losses[-1]
        return verdict

    # ---------------------------------------------------------------- rules
    @property
    def _quantity(self) -> str:
        """What a reason calls the loss: f on a problem with a geometry (a surface)."""
        return "the loss" if self.landscape.length_scale is None else "f"

    def _where(self, obs: Observation) -> str:
        if self.unit == "step":
            return f"at step {obs.step}"
        return f"at epoch {obs.epoch:g}"

    def _span(self) -> str:
        """The window, in words."""
        if self.unit == "step":
            return f"the last {len(self.memory.losses)} steps"
        epochs = self.memory.epochs
        return f"epochs {epochs[0]:g}-{epochs[-1]:g}"

    def _classify(self, obs: Observation, stats: WindowStats | None) -> tuple[Status, Reason]:
        s = self.settings
        memory = self.memory
        initial = memory.initial_loss
        if self._blown_up(obs.loss):
            return "diverged", lambda: (
                f"diverged {self._where(obs)}: the loss {format_number(obs.loss)} is over "
                f"{s.diverge_factor:g} times its best {format_number(memory.best)}"
            )
        target = self.target_loss
        if target is not None and obs.loss <= target:
            crossed = obs.crossed
            if crossed is not None and crossed[0] != obs.step:
                return "converged", lambda: (
                    f"converged: the loss fell below the target {format_number(target)} at "
                    f"step {crossed[0]} (epoch {crossed[1]:g}); "
                    f"{format_apart(obs.loss, target)} {self._where(obs)} (step {obs.step})"
                )
            return "converged", lambda: (
                f"converged: the loss {format_apart(obs.loss, target)} is below the target "
                f"{format_number(target)} {self._where(obs)} (step {obs.step})"
            )
        assert stats is not None, "a loss above the target is judged by its window"
        runaway = self._runaway(obs, stats)
        if runaway is not None:
            runaway_text: str = runaway
            return "diverging", lambda: runaway_text
        if stats.length >= 5:
            low = stats.low
            negligible = s.negligible_fraction * abs(initial)
            if (
                low > 0
                and obs.loss > s.growth_factor * low
                and obs.loss - low > negligible
                and stats.rising >= (stats.length - 1) / 2
            ):
                return "diverging", lambda: (
                    f"diverging {self._where(obs)}: the loss grew from {format_number(low)} to "
                    f"{format_number(obs.loss)} over {self._span()}" + self._curvature(obs, "")
                )
        if stats.length < s.window // 2:
            return self._running(obs, "")
        if self.landscape.length_scale is not None and obs.position is not None:
            return self._classify_point(obs, stats)
        return self._classify_trend(obs, stats)

    def _blown_up(self, loss: float) -> bool:
        """The loss far above its best (and above 10 x the initial loss): diverged."""
        memory = self.memory
        scale = max(abs(memory.best), 1e-12)
        return (
            loss - memory.best > self.settings.diverge_factor * scale
            and loss > 10 * abs(memory.initial_loss)
        )

    def _runaway(self, obs: Observation, stats: WindowStats) -> str | None:
        """On a function unbounded below: f far below its start and still falling."""
        if not self.landscape.unbounded_below or stats.length < 2:
            return None
        floor = -self.settings.runaway_factor * max(1.0, abs(self.memory.initial_loss))
        if obs.loss < floor and obs.loss < stats.first:
            return (
                f"diverging {self._where(obs)}: f = {format_number(obs.loss)} and falling "
                f"(from {format_number(stats.first)} {stats.length - 1} {self.unit}s before); "
                "the function has no minimum, the racer runs away to -inf"
            )
        return None

    def _curvature(self, obs: Observation, fallback: str) -> str:
        """ "; sharpness 48 > 2/lr = 20" when the curvature explains an instability."""
        if obs.stability is None or not math.isfinite(obs.sharpness):
            return fallback
        limit, formula = obs.stability
        if obs.sharpness > limit:
            return (
                f"; sharpness {format_number(obs.sharpness)} > {formula} = "
                f"{format_number(limit)}: the step is too large for this curvature"
            )
        return fallback

    def _running(self, obs: Observation, evidence: str) -> tuple[Status, Reason]:
        if self.status in ("running", "finished"):
            return "running", str
        return "running", lambda: f"running again {self._where(obs)}" + (
            f": {evidence}" if evidence else ""
        )

    # ------------------------------------------------------------ trend problems
    def _classify_trend(self, obs: Observation, stats: WindowStats) -> tuple[Status, Reason]:
        s = self.settings
        memory = self.memory
        trend = stats.trend
        assert trend is not None, "judged by its trend: window_stats(..., trend=True)"
        level = max(abs(trend.level), 1e-12)

        def span() -> str:
            return f"over {self._span()}"

        def figures() -> str:
            return (
                f"the loss {format_number(obs.loss)} changed by {format_number(trend.change)} "
                f"{span()} (noise {format_number(trend.noise)})"
            )

        negligible = s.negligible_fraction * abs(memory.initial_loss)
        if (
            trend.t > s.significant
            and trend.change > s.rising_fraction * level
            and trend.change > negligible
        ):
            return "diverging", lambda: (
                f"diverging {self._where(obs)}: the loss rose from "
                f"{format_number(stats.first)} to {format_number(obs.loss)} {span()}, "
                f"{format_number(trend.change / max(trend.noise, 1e-300))} times its noise"
                + self._curvature(obs, "")
            )
        flips, pairs = stats.flips, stats.pairs
        falling = trend.t < -s.significant and -trend.change > 2 * trend.noise
        # up and down is an oscillation only without net progress: a fall larger than the
        # noise is progress, however jagged (and whatever the curvature says)
        if (
            pairs
            and flips >= s.oscillation_fraction * pairs
            and trend.noise >= s.oscillation_noise * level
            and -trend.change <= trend.noise
        ):
            return "oscillating", lambda: (
                f"oscillating {self._where(obs)}: the loss went up and down in {flips} of "
                f"{pairs} moves (noise {format_number(trend.noise)} around "
                f"{format_number(trend.level)}) and changed by {format_number(trend.change)} "
                f"{span()}" + self._curvature(obs, "")
            )
        reference, who = self._reference(obs)
        gap = obs.loss - reference if math.isfinite(reference) else 0.0
        behind = gap > s.behind_fraction * max(abs(reference), 1e-12) + 2 * trend.noise
        progress = max(0.0, -trend.change)
        settled = not falling or progress < s.settled_fraction * level
        # stalled: progress within the noise (or a tiny fraction of the level) AND too
        # slow to close the gap to the reference; a smooth steady fall is still running
        tiny = not falling or progress < s.tiny_progress * level
        slow = progress * s.stall_windows < gap
        if behind and tiny and slow:
            since = memory.plateau_epoch if self.unit == "epoch" else obs.step
            when = f"epoch {since:g}" if self.unit == "epoch" else f"step {since}"

            def why() -> str:
                return (
                    f"stalled since {when}: {figures()}, {format_number(gap)} above {who} "
                    f"({format_number(reference)})"
                )

            return "stalled", lambda: why() + self._stall_cause(obs)
        if settled and trend.t < s.significant and trend.noise <= 0.1 * level:
            initial = memory.initial_loss
            good = not behind or (initial > 0 and obs.loss <= s.good_fraction * initial)
            if good and self.target_loss is None:

                def settled_why() -> str:
                    # behind the best racer, it converged on being far down from its start:
                    # the reason says so, or "the best racer 0.00048" reads as a contradiction
                    far_down = (
                        f", {obs.loss / initial:.1%} of its initial {format_number(initial)}"
                        if behind
                        else ""
                    )
                    best = f", {who} {format_number(reference)}" if math.isfinite(reference) else ""
                    return (
                        f"converged {self._where(obs)}: the loss settled at "
                        f"{format_number(obs.loss)}{far_down}: it changed by "
                        f"{format_number(trend.change)} {span()} (noise "
                        f"{format_number(trend.noise)}){best}"
                    )

                return "converged", settled_why
        if not falling or self.status in ("running", "finished"):
            return self._running(obs, "")
        return self._running(obs, figures())

    def _reference(self, obs: Observation) -> tuple[float, str]:
        """What a racer's progress is measured against: the target, else the best racer."""
        if self.target_loss is not None:
            return self.target_loss, "the target"
        return obs.leader_loss, "the best racer"

    def _stall_cause(self, obs: Observation) -> str:
        first = self.memory.first_effective_step
        if (
            self.shrinking_step is not None
            and math.isfinite(first)
            and obs.effective_step < 0.5 * first
        ):
            return (
                f"; {self.shrinking_step} (effective step {format_number(obs.effective_step)}, "
                f"from {format_number(first)})"
            )
        if obs.param_norm > 0 and obs.update_norm / obs.param_norm < 1e-6:
            return (
                f"; updates are {format_number(obs.update_norm / obs.param_norm)} of the "
                "weights (a learning rate too small?)"
            )
        return ""

    # ------------------------------------------------------------ point problems
    def _classify_point(
        self, obs: Observation, stats: WindowStats
    ) -> tuple[Status, Reason]:
        s = self.settings
        memory = self.memory
        assert obs.position is not None
        length = self.landscape.length_scale or 1.0
        points = [np.asarray(p, dtype=np.float64) for p in memory.positions if p is not None]
        here = points[-1]
        losses = list(memory.losses)
        f_range = max(abs(memory.initial_loss - memory.best), abs(memory.best), 1e-12)
        change = obs.loss - stats.first
        first_grad = memory.initial_grad_norm
        tiny = s.tiny_gradient * first_grad if math.isfinite(first_grad) else 0.0
        moved = float(np.linalg.norm(points[-1] - points[0]))
        span = f"the last {len(losses) - 1} steps"
        lately = losses[-s.confirm :]
        still = abs(lately[-1] - lately[0])
        if obs.grad_norm <= tiny and still <= s.still_fraction * f_range:
            return "converged", lambda: (
                f"converged {self._where(obs)} at {format_point(here)}"
                f"{self._minimum_text(here)}: |gradient| {format_number(obs.grad_norm)}, f = "
                f"{format_number(obs.loss)} changed by {format_number(still)} in the last "
                f"{len(lately) - 1} steps"
            )
        best_at = memory.best_position
        if best_at is not None:
            away = float(np.linalg.norm(here - np.asarray(best_at)))
            if away > s.basin_fraction * length and obs.loss - memory.best > 0.1 * f_range:
                return "diverging", lambda: (
                    f"diverging {self._where(obs)}: left the basin of its best point: f = "
                    f"{format_number(obs.loss)} at {format_point(here)}, {format_number(away)} "
                    f"from its best f = {format_number(memory.best)} at {format_point(best_at)}"
                )
        moves = [b - a for a, b in itertools.pairwise(points)]
        flips, pairs = reversals(moves)
        fall = -change
        if pairs and flips >= s.oscillation_fraction * pairs:
            unstable = self._curvature(obs, "")
            # to enter, hardly any net progress; to stay, less than a quarter of the level
            allowed = 0.25 if self.status == "oscillating" else 0.01
            slow = fall < allowed * max(abs(losses[0] - memory.best), abs(obs.loss), 1e-12)
            if unstable or slow:
                return "oscillating", lambda: (
                    f"oscillating {self._where(obs)}: the steps reversed direction in {flips} "
                    f"of {pairs} moves while f went from {format_number(losses[0])} to "
                    f"{format_number(obs.loss)} (|gradient| {format_number(obs.grad_norm)})"
                    + unstable
                )
        if moved < s.still_motion * length and obs.grad_norm > tiny:
            return "stalled", lambda: (
                f"stalled {self._where(obs)}: moved {format_number(moved)} in {span} although "
                f"|gradient| is {format_number(obs.grad_norm)}; f = {format_number(obs.loss)}"
                + self._stall_cause(obs)
            )
        if fall <= 0 or self.status in ("running", "finished"):
            return self._running(obs, "")
        return self._running(obs, f"f fell by {format_number(fall)} in {span}")

    def _minimum_text(self, here: np.ndarray) -> str:
        minima = self.landscape.minima
        if not minima:
            return ""
        distances = [float(np.linalg.norm(here - np.asarray(m))) for m in minima]
        nearest = int(np.argmin(distances))
        length = self.landscape.length_scale or 1.0
        if distances[nearest] > 0.01 * length:
            return ", not at a known minimum"
        if nearest == 0:
            return f", the global minimum ({format_number(distances[0])} away)"
        return f", a local minimum (the global one is at {format_point(minima[0])})"
