"""RMSprop, exactly as keras.optimizers.RMSprop."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasRMSprop(KerasOptimizer):
    """RMSprop as Keras 3 runs it: epsilon inside the square root, rho 0.9, lr 1e-3.

    Update rule (after ``w *= 1 - lr * weight_decay``; s, a, b start at 0)::

        s = rho * s + (1 - rho) * g^2
        a = rho * a + (1 - rho) * g                      (centered only)
        d = sqrt(s - a^2 + eps)  if centered  else  sqrt(s + eps)
        b = momentum * b + lr * g / d ;  w -= b          (w -= lr * g / d when momentum is 0)

    torch's RMSprop instead adds eps outside the root (sqrt(s) + eps), defaults to alpha 0.99
    and keeps lr outside its momentum buffer.

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6e; Graves,
    arXiv:1308.0850 (centered); https://keras.io/api/optimizers/rmsprop/
    """

    name = "rmsprop"
    keras_class = "keras.optimizers.RMSprop"
    summary = "RMSprop: lr * g / sqrt(mean g^2 + eps), rho 0.9 (keras.optimizers.RMSprop)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam("rho", 0.9, "decay of the running mean of g^2", low=0.0, high=1.0),
        HParam("momentum", 0.0, "momentum factor (lr inside the buffer)", low=0.0),
        eps_param(KERAS_EPSILON, "added to the mean square inside the root"),
        HParam("centered", False, "divide by the centred variance s - a^2", "bool"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "velocity")
        self._new_state(params, "momentum")
        if self.flags["centered"]:
            self._new_state(params, "average_gradient")

    def _denominator(self, out: np.ndarray, work: np.ndarray) -> np.ndarray:
        np.add(self.state["velocity"], self.h["eps"], out=out)
        if self.flags["centered"]:
            average = self.state["average_gradient"]
            np.multiply(average, average, out=work)
            out -= work
        np.sqrt(out, out=out)
        return out

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        rho = self.h["rho"]
        velocity = self.state["velocity"]
        work, denominator = self._buffer("work"), self._buffer("denominator")
        velocity *= rho
        np.multiply(grads, grads, out=work)
        work *= self._complement("rho")
        velocity += work
        if self.flags["centered"]:
            average = self.state["average_gradient"]
            average *= rho
            np.multiply(grads, self._complement("rho"), out=work)
            average += work
        self._denominator(denominator, work)
        np.multiply(grads, lr, out=work)
        work /= denominator
        if self._uses("momentum"):
            buffer = self.state["momentum"]
            buffer *= self.h["momentum"]
            buffer += work
            params -= buffer
        else:
            params -= work

    def effective_step(self) -> np.ndarray:
        velocity = self.state["velocity"]
        return self.lr / self._denominator(np.empty_like(velocity), np.empty_like(velocity))
