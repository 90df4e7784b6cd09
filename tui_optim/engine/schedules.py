"""Learning-rate schedules: a multiplicative factor on each racer's base lr, per step.

A schedule maps the 1-based optimizer step ``t`` (the step about to be taken, i.e.
``opt.t + 1``) to a factor; the race writes it into ``opt.lr_scale`` rows before calling
``opt.step``, so any optimizer can be scheduled. Schedules count optimizer steps
(iterations), not epochs: torch's ``lr_scheduler`` classes count ``scheduler.step()`` calls,
and calling it once after every optimizer step gives exactly our factors (torch's epoch
``e`` is our ``t - 1``).

======================  =========================================  ===========================
name (parameters)       factor at step t                           torch equivalent
======================  =========================================  ===========================
constant                1                                          (none / ConstantLR(1))
step (step_size, gamma) gamma ** ((t - 1) // step_size)            StepLR
exponential (gamma)     gamma ** (t - 1)                           ExponentialLR
cosine (total_steps,    eta_min + (1 - eta_min)                    CosineAnnealingLR(T_max =
eta_min)                * (1 + cos(pi * min(t-1, T) / T)) / 2      total_steps, eta_min =
                                                                   eta_min * base lr)
warmup (warmup_steps)   min(1, t / warmup_steps)                   LinearLR(1/warmup_steps,
                                                                   total_iters=warmup_steps-1)
======================  =========================================  ===========================

``cosine`` holds at ``eta_min`` after ``total_steps`` (torch's closed form would rise again).
``eta_min`` is a fraction of the base lr, so one schedule serves racers with different lrs.

Specs: ``make_schedule("cosine:total_steps=400,eta_min=0.01")`` or
``make_schedule({"name": "cosine", "total_steps": 400})`` or ``make_schedule("constant")``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.errors import suggest, unknown
from tui_optim.engine.optimizers.base import HParam, HyperparameterError


class ScheduleError(HyperparameterError):
    """A schedule spec names an unknown schedule or a bad parameter (one-line message)."""


@dataclass(frozen=True)
class Schedule:
    """Base class: ``factor(t)`` for the 1-based step t; ``params`` holds validated values."""

    name: ClassVar[str]
    summary: ClassVar[str]
    parameters: ClassVar[tuple[HParam, ...]] = ()
    params: Mapping[str, float | int] = field(default_factory=dict)

    def factor(self, t: int) -> float:
        """Multiplier of the base lr for step ``t`` (t >= 1)."""
        return float(self.factors(np.array(float(t))))

    def factors(self, t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Vectorised :meth:`factor` for an array of steps (e.g. ``opt.t + 1``, shape (r, 1))."""
        values = self._factors(np.asarray(t, dtype=np.float64))
        if out is None:
            return values
        out[...] = values
        return out

    def _factors(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({args})" if args else self.name

    def __getitem__(self, key: str) -> float | int:
        return self.params[key]


class Constant(Schedule):
    name = "constant"
    summary = "the base lr at every step"

    def _factors(self, t: np.ndarray) -> np.ndarray:
        return np.ones_like(t)


class Step(Schedule):
    name = "step"
    summary = "multiply the lr by gamma every step_size steps (torch StepLR)"
    parameters = (
        HParam("step_size", 100, "steps between two decays", "int", low=1),
        HParam("gamma", 0.1, "decay factor", low=0.0, low_open=True),
    )

    def _factors(self, t: np.ndarray) -> np.ndarray:
        return self["gamma"] ** ((t - 1) // self["step_size"])


class Exponential(Schedule):
    name = "exponential"
    summary = "multiply the lr by gamma every step (torch ExponentialLR)"
    parameters = (HParam("gamma", 0.99, "decay factor per step", low=0.0, low_open=True),)

    def _factors(self, t: np.ndarray) -> np.ndarray:
        return self["gamma"] ** (t - 1)


class Cosine(Schedule):
    name = "cosine"
    summary = "cosine decay to eta_min * lr over total_steps (torch CosineAnnealingLR)"
    parameters = (
        HParam(
            "total_steps",
            1000,
            "steps to reach the minimum (T_max)",
            "int",
            low=1,
            aliases=("T_max", "t_max"),
        ),
        HParam("eta_min", 0.0, "final lr as a fraction of the base lr", low=0.0, high=1.0),
    )

    def _factors(self, t: np.ndarray) -> np.ndarray:
        total, floor = self["total_steps"], self["eta_min"]
        progress = np.minimum(t - 1, total) / total
        return floor + (1 - floor) * (1 + np.cos(math.pi * progress)) / 2


class Warmup(Schedule):
    name = "warmup"
    summary = "linear warm-up: lr * t / warmup_steps until warmup_steps, then lr"
    parameters = (
        HParam("warmup_steps", 100, "steps to reach the full lr", "int", low=1, aliases=("steps",)),
    )

    def _factors(self, t: np.ndarray) -> np.ndarray:
        return np.minimum(1.0, t / self["warmup_steps"])


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, Step, Exponential, Cosine, Warmup)
}


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``"name:key=value,key=value"`` -> (name, {key: number})."""
    name, _, rest = spec.partition(":")
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, text = item.partition("=")
        if not sep:
            raise ScheduleError(f"schedule {spec!r}: expected key=value, got {item!r}")
        try:
            number: float | int = int(text) if text.strip().lstrip("-").isdigit() else float(text)
        except ValueError:
            raise ScheduleError(
                f"schedule {name.strip()}.{key.strip()} must be a number, got {text!r}"
            ) from None
        values[key.strip()] = number
    return name.strip(), values


def make_schedule(spec: str | Mapping[str, Any] | Schedule | None) -> Schedule:
    """Build and validate a schedule; raise :class:`ScheduleError` with a one-line message.

    ``None`` means constant. A mapping needs a ``name`` key; the other keys are parameters
    (aliases such as ``T_max`` are accepted).
    """
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        name, given = _parse(spec)
    elif isinstance(spec, Mapping):
        given = dict(spec)
        name = given.pop("name", None)
        if not isinstance(name, str):
            raise ScheduleError(f"a schedule needs a name; allowed: {', '.join(SCHEDULES)}")
    else:
        raise ScheduleError(f"a schedule must be a name or a table, got {spec!r}")
    cls = SCHEDULES.get(name.strip().lower())
    if cls is None:
        raise ScheduleError(unknown("schedule", name, SCHEDULES))
    values = {p.name: p.default for p in cls.parameters}
    for key, value in given.items():
        param = next((p for p in cls.parameters if key == p.name or key in p.aliases), None)
        if param is None:
            known = [p.name for p in cls.parameters]
            allowed = ", ".join(known) if known else "none"
            raise ScheduleError(
                f"schedule {cls.name} has no parameter {key!r}{suggest(key, known)}; "
                f"allowed: {allowed}"
            )
        try:
            values[param.name] = param.check(value, f"schedule {cls.name}")
        except HyperparameterError as error:
            raise ScheduleError(str(error)) from None
    return cls(params=values)
