"""Yogi, exactly as optax.yogi."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, eps_param, lr_param
from tui_optim.engine.optimizers.optax_common import (
    bias_correction,
    optax_beta,
    rms_effective_step,
    update_moment,
)

#: optax's scale_by_yogi starts both moments here (its initial_accumulator_value).
INITIAL_ACCUMULATOR = 1e-6


class Yogi(Optimizer):
    """Yogi: Adam whose second moment moves towards g^2 by an additive step, so the effective
    learning rate cannot jump up when gradients suddenly shrink.

    Update rule (m and v start at 1e-6, as optax's; t counts from 1)::

        m = b1 * m + (1 - b1) * g
        v = v - (1 - b2) * sign(v - g^2) * g^2
        w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    optax's default eps is 1e-3; it has no default learning rate, 1e-2 is ours (the paper's
    recommendation). optax's spellings learning_rate, b1 and b2 are accepted.

    Reference: Zaheer et al., "Adaptive methods for nonconvex optimization" (NeurIPS 2018);
    optax.yogi (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.yogi
    """

    name = "yogi"
    summary = "Yogi: Adam with an additive, sign-controlled second moment (optax.yogi)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-2),
        optax_beta("beta1", 0.9, "decay of the gradient mean m"),
        optax_beta("beta2", 0.999, "rate at which v moves towards g^2"),
        eps_param(1e-3),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "mu", INITIAL_ACCUMULATOR)
        self._new_state(params, "nu", INITIAL_ACCUMULATOR)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        mu, nu = self.state["mu"], self.state["nu"]
        work, square = self._buffer("work"), self._buffer("square")
        update_moment(self, mu, grads, "beta1", work)
        np.multiply(grads, grads, out=square)
        np.subtract(nu, square, out=work)
        np.sign(work, out=work)
        work *= self._complement("beta2")
        work *= square
        nu -= work
        np.divide(nu, bias_correction(self.h["beta2"], self.t), out=work)
        np.sqrt(work, out=work)
        work += self.h["eps"]
        np.divide(mu, bias_correction(self.h["beta1"], self.t), out=square)
        square /= work
        square *= self.lr
        params -= square

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(v_hat) + eps): what multiplies the corrected momentum."""
        return rms_effective_step(self, "nu", "beta2")
