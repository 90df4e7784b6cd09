"""Adadelta, exactly as keras.optimizers.Adadelta."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasAdadelta(KerasOptimizer):
    """Adadelta as Keras 3 runs it: rho 0.95, epsilon 1e-7, lr 1e-3 by default.

    Update rule (after ``w *= 1 - lr * weight_decay``; both averages start at 0)::

        E[g^2]  = rho * E[g^2] + (1 - rho) * g^2
        dx      = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
        E[dx^2] = rho * E[dx^2] + (1 - rho) * dx^2
        w -= lr * dx

    The rule is torch's; the defaults differ (torch: rho 0.9, eps 1e-6, lr 1). With Keras'
    default lr 1e-3 it barely moves: Zeiler's method is lr 1.

    Reference: Zeiler, "ADADELTA: an adaptive learning rate method", arXiv:1212.5701;
    https://keras.io/api/optimizers/adadelta/
    """

    name = "adadelta"
    keras_class = "keras.optimizers.Adadelta"
    summary = "Adadelta with E[dx^2], rho 0.95, eps 1e-7 (keras.optimizers.Adadelta)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam("rho", 0.95, "decay of both running averages", low=0.0, high=1.0),
        eps_param(KERAS_EPSILON, "added inside both roots"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "accumulated_grad")
        self._new_state(params, "accumulated_delta_var")

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        rho, eps, keep = self.h["rho"], self.h["eps"], self._complement("rho")
        grad_avg = self.state["accumulated_grad"]
        delta_avg = self.state["accumulated_delta_var"]
        work, delta, root = self._buffer("work"), self._buffer("delta"), self._buffer("root")
        grad_avg *= rho
        np.multiply(grads, grads, out=work)
        work *= keep
        grad_avg += work
        np.add(delta_avg, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta *= grads
        np.add(grad_avg, eps, out=root)
        np.sqrt(root, out=root)
        delta /= root
        delta_avg *= rho
        np.multiply(delta, delta, out=work)
        work *= keep
        delta_avg += work
        delta *= lr
        params -= delta

    def effective_step(self) -> np.ndarray:
        eps = self.h["eps"]
        return (
            self.lr
            * np.sqrt(self.state["accumulated_delta_var"] + eps)
            / np.sqrt(self.state["accumulated_grad"] + eps)
        )
