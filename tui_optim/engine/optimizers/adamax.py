"""Adamax, exactly as torch.optim.Adamax."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    BETAS,
    HParam,
    Optimizer,
    beta_param,
    eps_param,
    lr_param,
    weight_decay_param,
)


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the RMS.

    Update rule (g = gradient + weight_decay * w; m, u start at 0)::

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        w -= lr / (1 - beta1^t) * m / u

    Reference: Kingma & Ba, arXiv:1412.6980, section 7.1;
    https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html
    """

    name = "adamax"
    summary = "Adamax: Adam with the max-norm of past gradients as denominator (torch)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(2e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the infinity norm u"),
        eps_param(1e-8),
        weight_decay_param(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "exp_avg")
        self._new_state(params, "exp_inf")

    def _step_size(self) -> np.ndarray:
        return self.lr / (1 - self.h["beta1"] ** np.maximum(self.t, 1))

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        exp_avg, exp_inf = self.state["exp_avg"], self.state["exp_inf"]
        work = self._buffer("work")
        self._moving_average(exp_avg, grad, "beta1", work)
        exp_inf *= self.h["beta2"]
        np.abs(grad, out=work)
        work += self.h["eps"]
        np.maximum(exp_inf, work, out=exp_inf)
        np.multiply(exp_avg, -self._step_size(), out=work)
        work /= exp_inf
        params += work

    def effective_step(self) -> np.ndarray:
        """lr / (1 - beta1^t) / u: what multiplies the momentum m."""
        with np.errstate(divide="ignore"):
            return self._step_size() / self.state["exp_inf"]
