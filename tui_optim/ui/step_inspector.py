"""What one optimizer step does on a 2-D surface: gradient, update, momentum and state.

Plain NumPy and the engine (no Textual). The race streams positions, not optimizer state, so
the state at step ``k`` is rebuilt here: the racer's optimizer is fed the exact gradients at
the recorded points ``w_0 .. w_{k-1}`` (a surface's gradient is exact, there are no batches),
which reproduces its moments and accumulators at ``w_k``; then one more step from ``w_k``
gives the update the racer takes there. Hyperparameters edited during the race are taken at
their current values for every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tui_optim.engine.surfaces import Surface
    from tui_optim.race.messages import RacerSpec

#: Optimizer state -> what the panel calls it.
STATE_LABELS: dict[str, str] = {
    "exp_avg": "m (1st moment)",
    "exp_avg_sq": "v (2nd moment)",
    "max_exp_avg_sq": "max v",
    "exp_inf": "u (inf norm)",
    "sum": "Σg² (accumulated)",
    "square_avg": "E[g²]",
    "acc_delta": "E[Δw²]",
    "momentum_buffer": "momentum buffer",
    "velocity": "velocity",
    "moment": "m",
    "gains": "gains",
    "step_size": "step sizes",
    "prev": "previous gradient",
    "previous_grad": "previous gradient",
    "mu_product": "Π μ",
    "momentum": "momentum (m)",
    "accumulator": "Σg² (accumulated)",
}
#: The state that is the optimizer's momentum (the first one present and in use): torch's
#: names, then Keras' ("momentum" is Adam's m and SGD's velocity there; its "velocity" is v).
MOMENTUM_KEYS = ("exp_avg", "moment", "momentum_buffer", "momentum", "velocity")


@dataclass(frozen=True)
class StepInspection:
    """One step of one racer: from ``position`` (after ``step`` steps) by ``update``."""

    step: int
    position: np.ndarray  # (2,)
    value: float
    gradient: np.ndarray  # (2,)
    update: np.ndarray  # (2,) the step taken from position
    effective_lr: np.ndarray  # (2,) -update / gradient per coordinate (NaN where g = 0)
    momentum: tuple[str, np.ndarray] | None  # (state name, (2,)) when the optimizer has one
    state: dict[str, np.ndarray] = field(default_factory=dict)  # after the step, per name
    bias_corrections: dict[str, float] = field(default_factory=dict)  # e.g. "1-β1^t"


def inspect_step(surface: Surface, spec: RacerSpec, path: np.ndarray) -> StepInspection:
    """The step a racer takes from ``path[-1]``, with its state rebuilt along ``path``
    (``(k + 1, 2)``: the start, then the point after each of the ``k`` steps taken)."""
    from tui_optim.engine.optimizers import get_optimizer
    from tui_optim.engine.problems import SurfaceProblem
    from tui_optim.engine.schedules import make_schedule

    path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
    cls = get_optimizer(spec.optimizer, spec.flavor)
    optimizer = cls([dict(spec.hparams)], np.float64)
    optimizer.tensors = SurfaceProblem(surface).tensors()
    schedule = make_schedule(spec.schedule) if spec.schedule else None
    params = path[:1].copy()
    grads = np.empty_like(params)
    optimizer.init_state(params)
    with np.errstate(all="ignore"):
        for point in path:
            params[0] = point
            surface.gradient(params, out=grads)
            if schedule is not None:
                optimizer.lr_scale[0, 0] = schedule.factor(int(optimizer.t[0, 0]) + 1)
            optimizer.step(params, grads)
        here = path[-1]
        update = params[0] - here
        gradient = grads[0].copy()
        effective = np.where(gradient != 0, -update / gradient, np.nan)
    state = {name: value[0].copy() for name, value in optimizer.state.items()}
    momentum = None
    uses_momentum = float(spec.hparams.get("momentum", 1.0)) != 0.0
    for name in MOMENTUM_KEYS:
        if name in state and uses_momentum:
            momentum = (name, state[name][:2])
            break
    corrections: dict[str, float] = {}
    t = len(path)
    if "beta1" in spec.hparams and ("exp_avg" in state or "momentum" in state):
        corrections["1-β1^t"] = 1.0 - float(spec.hparams["beta1"]) ** t
    if "beta2" in spec.hparams and ("exp_avg_sq" in state or "velocity" in state):
        corrections["1-β2^t"] = 1.0 - float(spec.hparams["beta2"]) ** t
    return StepInspection(
        step=len(path) - 1,
        position=here.copy(),
        value=float(surface.value(path[-1:])[0]),
        gradient=gradient,
        update=update,
        effective_lr=effective,
        momentum=momentum,
        state=state,
        bias_corrections=corrections,
    )
