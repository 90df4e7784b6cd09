"""Adamax, exactly as keras.optimizers.Adamax."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, beta_param, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasAdamax(KerasOptimizer):
    """Adamax as Keras 3 runs it: epsilon added to the norm u at the division.

    Update rule (after ``w *= 1 - lr * weight_decay``; m, u start at 0)::

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1^t) * (u + eps))

    torch's Adamax instead keeps eps inside the norm, u = max(beta2 * u, |g| + eps).

    Reference: Kingma & Ba, arXiv:1412.6980, section 7.1;
    https://keras.io/api/optimizers/adamax/
    """

    name = "adamax"
    keras_class = "keras.optimizers.Adamax"
    summary = "Adamax: lr/(1-b1^t) * m / (max-norm u + eps) (keras.optimizers.Adamax)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the infinity norm u"),
        eps_param(KERAS_EPSILON, "added to u at the division"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")
        self._new_state(params, "norm")

    def _correction(self) -> np.ndarray:
        return 1 - self.h["beta1"] ** np.maximum(self.t, 1)

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        momentum, norm = self.state["momentum"], self.state["norm"]
        work, denominator = self._buffer("work"), self._buffer("denominator")
        momentum *= self.h["beta1"]
        np.multiply(grads, self._complement("beta1"), out=work)
        momentum += work
        norm *= self.h["beta2"]
        np.abs(grads, out=work)
        np.maximum(norm, work, out=norm)
        np.add(norm, self.h["eps"], out=denominator)
        denominator *= self._correction()
        np.multiply(momentum, lr, out=work)
        work /= denominator
        params -= work

    def effective_step(self) -> np.ndarray:
        """lr / ((1 - beta_1^t) (u + eps)): what multiplies the momentum m."""
        return self.lr / (self._correction() * (self.state["norm"] + self.h["eps"]))
