"""AdaBelief, exactly as optax.adabelief."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, eps_param, lr_param
from tui_optim.engine.optimizers.optax_common import (
    bias_correction,
    eps_root_param,
    optax_beta,
    rms_effective_step,
    update_moment,
    update_moment_squared,
)


class AdaBelief(Optimizer):
    """AdaBelief: Adam dividing by the spread of g around its mean (the "belief") instead of
    the raw second moment; steps are large where the gradient is predictable.

    Update rule (m, s start at 0; t counts from 1)::

        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * (g - m)^2 + eps_root
        m_hat = m / (1 - b1^t)
        m_hat = b1 * m / (1 - b1^(t+1)) + (1 - b1) * g / (1 - b1^t)     (nesterov only)
        s_hat = s / (1 - b2^t)
        w -= lr * m_hat / (sqrt(s_hat) + eps)

    optax's defaults eps = eps_root = 1e-16 (the paper uses eps 1e-8, eps_root 0); optax has
    no default learning rate, 1e-3 is ours. optax's spellings learning_rate, b1 and b2 are
    accepted.

    Reference: Zhuang et al., "AdaBelief optimizer: adapting stepsizes by the belief in
    observed gradients", arXiv:2010.07468 (NeurIPS 2020); optax.adabelief (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adabelief
    """

    name = "adabelief"
    summary = "AdaBelief: Adam dividing by the variance of g around m (optax.adabelief)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        optax_beta("beta1", 0.9, "decay of the gradient mean m"),
        optax_beta("beta2", 0.999, "decay of the belief s, the mean of (g - m)^2"),
        eps_param(1e-16),
        eps_root_param(1e-16),
        HParam("nesterov", False, "Nesterov momentum in the step direction", "bool"),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "mu")
        self._new_state(params, "nu")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        mu, nu = self.state["mu"], self.state["nu"]
        work, direction = self._buffer("work"), self._buffer("direction")
        beta1 = self.h["beta1"]
        update_moment(self, mu, grads, "beta1", work)
        np.subtract(grads, mu, out=direction)
        update_moment_squared(self, nu, direction, "beta2", work)
        nu += self.h["eps_root"]
        if self.flags["nesterov"]:
            np.divide(mu, bias_correction(beta1, self.t + 1), out=direction)
            direction *= beta1
            np.divide(grads, bias_correction(beta1, self.t), out=work)
            work *= self._complement("beta1")
            direction += work
        else:
            np.divide(mu, bias_correction(beta1, self.t), out=direction)
        np.divide(nu, bias_correction(self.h["beta2"], self.t), out=work)
        np.sqrt(work, out=work)
        work += self.h["eps"]
        direction /= work
        direction *= self.lr
        params -= direction

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(s_hat) + eps): what multiplies the corrected momentum."""
        return rms_effective_step(self, "nu", "beta2")
