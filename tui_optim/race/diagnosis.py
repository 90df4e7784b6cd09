"""Diagnosis: turn a racer's metric stream into status changes with plain-language reasons.

The race feeds a :class:`HealthMonitor` one :class:`Observation` per epoch (per step on a
2-D surface). Thresholds are relative to the racer's own losses, because losses range from
1e-8 to 1e3 across problems. A new status must hold for a few observations before it is
reported (no flicker), except "diverged" and "error", which are final and immediate.

    running      none of the below
    converged    below the target loss; or, with no target, a plateau at a good level
    stalled      no meaningful improvement over the window while not good, or vanishing steps
    oscillating  the loss goes up and down without net progress
    diverging    the loss (or the gradient) growing fast
    diverged     non-finite values, or the loss far above its best (final)
    error        the optimizer's update raised (final)
    finished     still running when the race used up its epochs or steps (see :meth:`finish`)
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

from tui_optim.race.messages import Status

FINAL: tuple[Status, ...] = ("diverged", "error")


def format_number(value: float) -> str:
    """Two significant digits: 3e-05, 0.012, 4.5, 1.2e+03."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2g}"


def format_apart(value: float, reference: float) -> str:
    """``value`` with as many digits (2 to 6) as it takes to differ from ``reference``
    formatted the same way: "0.0498 is below 0.05", never "0.05 is below 0.05"."""
    for digits in range(2, 7):
        shown = f"{value:.{digits}g}"
        if shown != f"{reference:.{digits}g}":
            return shown
    return shown


@dataclass(frozen=True, slots=True)
class Observation:
    step: int
    epoch: float
    seconds: float
    loss: float
    val_loss: float = math.nan
    grad_norm: float = math.nan
    update_norm: float = math.nan
    param_norm: float = math.nan
    effective_step: float = math.nan


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    reason: str


@dataclass(frozen=True)
class HealthSettings:
    """Thresholds of the diagnosis (all relative, so they hold across problems)."""

    #: Observations a trend is judged over (epochs, for MLPs).
    window: int = 20
    #: Consecutive observations a new status must hold before it is reported.
    confirm: int = 3
    #: Relative loss improvement over the window below which the racer is not progressing.
    stall_improvement: float = 0.01
    #: |update| / |weights| below which steps have vanished.
    vanishing_update: float = 1e-7
    #: Loss above best * this (and above 10 x the initial loss): diverged.
    diverge_factor: float = 1e3
    #: Loss growth over the recent window that counts as diverging.
    growth_factor: float = 10.0
    #: Fraction of sign changes of successive loss differences that counts as oscillating.
    oscillation_fraction: float = 0.7
    #: Hysteresis: a diagnosis holds until the evidence is this much weaker than what made
    #: it (a racer near a threshold must not flap between two badges every few epochs).
    release_factor: float = 3.0
    #: Hysteresis for oscillating: it holds while this fraction of the moves still flip.
    oscillation_release: float = 0.45
    #: Mean |loss change| per epoch, relative to the loss, below which up-and-down moves are
    #: noise on a flat loss (a stall), not an oscillation.
    oscillation_amplitude: float = 0.01
    #: With no target loss, a loss below this fraction of the initial one is "good".
    good_fraction: float = 0.05


class HealthMonitor:
    """The status of one racer, updated by :meth:`observe` (see the module docstring)."""

    def __init__(
        self,
        optimizer: str,
        target_loss: float | None,
        *,
        window: int | None = None,
        settings: HealthSettings | None = None,
    ):
        self.optimizer = optimizer
        self.target_loss = target_loss
        self.settings = settings or HealthSettings()
        if window is not None:
            self.settings = HealthSettings(**{**self.settings.__dict__, "window": window})
        self.reset()

    def reset(self) -> None:
        """Forget the past (after a restart or a hyperparameter change)."""
        self.status: Status = "running"
        self.initial: float | None = None
        self.first_grad_norm: float | None = None
        self.first_effective_step: float | None = None
        self.best = math.inf
        #: The last loss level that was a meaningful improvement, and the epoch it was reached
        #: (a stall is reported "since" then).
        self.plateau_level: float | None = None
        self.plateau_start: float | None = None
        self.recent: deque[Observation] = deque(maxlen=self.settings.window)
        self._candidate: Status = "running"
        self._candidate_count = 0
        self._candidate_since: Observation | None = None

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

    def finish(self, step: int, epoch: float, loss: float) -> Verdict | None:
        """The race ran out of epochs or steps: a racer still "running" becomes "finished".

        Every other status is already a diagnosis and stays, so a finished race never shows
        a racer as still running.
        """
        if self.status != "running":
            return None
        self.status = "finished"
        reason = (
            f"finished at epoch {epoch:g} (step {step}): loss {format_number(loss)}, "
            f"best {format_number(self.best)}"
        )
        if self.target_loss is not None:
            reason += f", target {format_number(self.target_loss)} not reached"
        return Verdict("finished", reason)

    def observe(self, obs: Observation) -> Verdict | None:
        """Take one observation; return a verdict when the status changes."""
        if self.status in FINAL:
            return None
        if not math.isfinite(obs.loss):
            return self.non_finite(obs.step, obs.epoch, obs.seconds, "the loss")
        if self.initial is None:
            self.initial = obs.loss
            self.first_grad_norm = obs.grad_norm
            self.first_effective_step = obs.effective_step
        self.recent.append(obs)
        self.best = min(self.best, obs.loss)
        if self.plateau_level is None or obs.loss < self.plateau_level * (
            1 - self.settings.stall_improvement
        ):
            self.plateau_level, self.plateau_start = obs.loss, obs.epoch
        status, reason = self._classify(obs)
        if status == "diverged" or (status == "converged" and self.target_loss is not None):
            return self._switch(status, reason)
        if status != self._candidate:
            self._candidate, self._candidate_count, self._candidate_since = status, 0, obs
        self._candidate_count += 1
        # Stalled and oscillating both say "no progress", and a flat, noisy loss sits near
        # the line between them: changing one for the other takes a whole window of
        # evidence, not the few observations any other change takes.
        sideways = {status, self.status} == {"stalled", "oscillating"}
        needed = self.settings.window if sideways else self.settings.confirm
        if status != self.status and self._candidate_count >= needed:
            if self.status == "converged" and status != "diverging":
                # Still converged: a racer that keeps improving slowly, or jitters with its
                # batches at the bottom of the valley, has not lost anything.
                return None
            return self._switch(status, reason)
        return None

    def _switch(self, status: Status, reason: str) -> Verdict | None:
        if status == self.status:
            return None
        self.status = status
        return Verdict(status, reason)

    # ---------------------------------------------------------------- rules
    def _classify(self, obs: Observation) -> tuple[Status, str]:
        s = self.settings
        initial = self.initial if self.initial is not None else obs.loss
        where = f"at epoch {obs.epoch:g}"
        scale = max(abs(self.best), 1e-12)
        if obs.loss - self.best > s.diverge_factor * scale and obs.loss > 10 * abs(initial):
            return "diverged", (
                f"diverged {where}: the loss {format_number(obs.loss)} is over "
                f"{s.diverge_factor:g} times its best {format_number(self.best)}"
            )
        losses = [o.loss for o in self.recent]
        target = self.target_loss
        if target is not None and obs.loss <= target:
            return "converged", (
                f"converged {where} (step {obs.step}): the loss "
                f"{format_apart(obs.loss, target)} is below the target {format_number(target)}"
            )
        if len(losses) >= 5:
            low = min(losses[:-1])
            rising = sum(b > a for a, b in itertools.pairwise(losses))
            if (
                obs.loss > s.growth_factor * max(low, 1e-12)
                and low > 0
                and rising >= (len(losses) - 1) / 2
            ):
                return "diverging", (
                    f"diverging {where}: the loss grew {format_number(obs.loss / low)}x "
                    f"over the last {len(losses)} epochs" + self._lr_hint()
                )
            first_grad = self.recent[0].grad_norm
            if (
                math.isfinite(first_grad)
                and first_grad > 0
                and obs.grad_norm > 100 * first_grad
                and obs.loss > losses[0]
            ):
                return "diverging", (
                    f"diverging {where}: the gradient norm grew "
                    f"{format_number(obs.grad_norm / first_grad)}x while the loss rose"
                    + self._lr_hint()
                )
        if len(losses) < s.window:
            return "running", f"running again {where}" if self.status != "running" else ""
        # Net progress as the older half's mean against the recent half's: robust to noise
        # and to a zig-zag, which single end points are not.
        middle = len(losses) // 2
        older, newer = sum(losses[:middle]) / middle, sum(losses[middle:]) / (len(losses) - middle)
        improvement = (older - newer) / max(abs(older), 1e-12)
        good = target is None and initial > 0 and obs.loss <= s.good_fraction * initial
        if good and improvement < s.stall_improvement:
            return "converged", (
                f"converged {where}: the loss settled at {format_number(obs.loss)} "
                f"({format_number(obs.loss / initial)} of its initial value)"
            )
        steps = [b - a for a, b in itertools.pairwise(losses)]
        flips = sum((a > 0) != (b > 0) for a, b in itertools.pairwise(steps) if a and b)
        flipping = s.oscillation_release if self.status == "oscillating" else s.oscillation_fraction
        amplitude = sum(abs(d) for d in steps) / len(steps) / max(abs(newer), 1e-12)
        if (
            flips >= flipping * (len(steps) - 1)
            and amplitude >= s.oscillation_amplitude
            and improvement < 5 * s.stall_improvement
        ):
            return "oscillating", (
                f"oscillating {where}: the loss went up and down in {flips} of the last "
                f"{len(steps) - 1} epochs without net progress" + self._lr_hint()
            )
        ratio = obs.update_norm / obs.param_norm if obs.param_norm > 0 else math.nan
        vanishing = math.isfinite(ratio) and ratio < s.vanishing_update
        stall_below = s.stall_improvement * (s.release_factor if self.status == "stalled" else 1)
        if vanishing or (improvement < stall_below and not good):
            since = self.plateau_start if self.plateau_start is not None else obs.epoch
            return "stalled", f"stalled since epoch {since:g}: {self._stall_why(obs, ratio)}"
        return "running", (
            f"running again {where}: the loss fell {format_number(100 * improvement)}% "
            f"over the last {len(losses)} epochs"
            if self.status in ("stalled", "oscillating") and improvement > 0
            else f"running again {where}"
        )

    def _lr_hint(self) -> str:
        return "; the learning rate may be too high"

    def _stall_why(self, obs: Observation, ratio: float) -> str:
        step = format_number(obs.effective_step)
        name = self.optimizer
        first_step = self.first_effective_step
        if (
            name == "adagrad"
            and first_step is not None
            and math.isfinite(first_step)
            and obs.effective_step < 0.5 * first_step
        ):
            return (
                f"Adagrad's effective step fell to {step} (from {format_number(first_step)}) "
                "as squared gradients accumulated"
            )
        if name == "rprop":
            return f"Rprop's step sizes shrank to {step}"
        if math.isfinite(ratio) and ratio < self.settings.vanishing_update:
            return (
                f"updates are {format_number(ratio)} of the weights "
                "(a learning rate too small for this problem?)"
            )
        first = self.first_grad_norm
        if first and math.isfinite(first) and obs.grad_norm < 1e-3 * first:
            return (
                f"the gradient norm fell to {format_number(obs.grad_norm)} "
                "(a plateau, or saturated units)"
            )
        pct = format_number(100 * self.settings.stall_improvement)
        window = len(self.recent)
        if name in ("adam", "amsgrad", "adamw", "adamax", "nadam", "radam", "textbook_adam"):
            return (
                f"on a plateau: the loss {format_number(obs.loss)} improved by less than "
                f"{pct}% over the last {window} epochs"
            )
        return (
            f"the loss {format_number(obs.loss)} improved by less than {pct}% over the last "
            f"{window} epochs (effective step {step})"
        )
