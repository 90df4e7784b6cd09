"""The course's Nesterov accelerated gradient, in its one-gradient-per-step form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param, momentum_threshold
from tui_optim.engine.optimizers.momentum import GAMMA_PARAMS, advance_velocity, gamma_at


class Nesterov(Optimizer):
    """Nesterov accelerated gradient: the gradient is taken at the look-ahead point.

    Update rule as the course writes it (course parts 2 and 5); it needs the gradient at
    a point other than the current weights::

        v = gamma_t * v - lr * grad(w + gamma_t * v)
        w += v

    We store the look-ahead point ``u = w + gamma_t * v`` as the racer's parameters
    instead, so the race's one gradient per step at the parameters is exactly the gradient
    the course asks for. Substituting gives the equivalent update::

        g = grad(u)
        v = gamma_t * v - lr * g
        u += gamma_{t+1} * v - lr * g

    (``u`` equals ``w`` at the start, since v starts at 0). The loss shown is therefore the
    loss at the look-ahead point; both sequences converge to the same weights. gamma_t
    follows the same optional rise as ``momentum`` (gamma_start, gamma_rise).
    tests/engine/test_optimizers.py runs the look-ahead form literally and checks both
    trajectories agree.

    Reference: Nesterov (1983); Sutskever et al., "On the importance of initialization and
    momentum in deep learning" (ICML 2013), eq. 3-4; Bengio et al. (2012) for the
    reparametrisation.
    """

    name = "nesterov"
    summary = "course Nesterov: gradient at the look-ahead w + gamma*v, one gradient per step"
    hparams: ClassVar[tuple[HParam, ...]] = (lr_param(0.01), *GAMMA_PARAMS)

    @classmethod
    def stability_threshold(cls, hparams: Mapping[str, Any]) -> tuple[float, str] | None:
        # gamma is where a rising momentum ends up: the threshold that matters late on
        return momentum_threshold(float(hparams["lr"]), float(hparams["gamma"]), True)

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "velocity")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        scaled_grad = advance_velocity(self, grads)
        params -= scaled_grad
        np.multiply(self.state["velocity"], gamma_at(self, self.t + 1), out=scaled_grad)
        params += scaled_grad
