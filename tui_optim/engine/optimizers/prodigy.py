"""Prodigy, exactly as optax.contrib.prodigy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    BETAS,
    HParam,
    Optimizer,
    eps_param,
    lr_param,
    weight_decay_param,
)
from tui_optim.engine.optimizers.optax_common import optax_beta, tree_sum, tree_vdot


class Prodigy(Optimizer):
    """Prodigy: AdamW whose step size d is estimated on the fly from how far the weights
    have travelled along the gradients, so lr stays a schedule factor around 1.

    Update rule (m, v, s start at 0; d starts at d0 = estim_lr0, the numerator r at 0; w0
    the initial weights; sums run over every tensor of the row; t counts from 1)::

        dlr = d * lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        m = beta1 * m + (1 - beta1) * d * g
        v = beta2 * v + (1 - beta2) * (d * g)^2
        s = beta3 * s + dlr * d * g / d0         (d * d * g / d0 with safeguard_warmup)
        r = beta3 * r + (d / d0) * dlr * <g, w0 - w>
        d = max(d, estim_lr_coef * r / sum|s|)
        w -= weight_decay * dlr * w + dlr * m / (sqrt(v) + d * eps)

    beta3 defaults to sqrt(beta2) (optax's None), set when a row leaves it out. optax's
    defaults, including lr 1; its betas=(beta1, beta2) pair is accepted.

    Reference: Mishchenko & Defazio, "Prodigy: an expeditiously adaptive parameter-free
    learner", arXiv:2306.06101 (ICML 2024); optax.contrib.prodigy (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.prodigy
    """

    name = "prodigy"
    summary = "Prodigy: AdamW estimating its own step size d, lr a factor ~1 (optax)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1.0),
        optax_beta("beta1", 0.9, "decay of the gradient mean m"),
        optax_beta("beta2", 0.999, "decay of the squared-gradient mean v"),
        optax_beta("beta3", 0.999**0.5, "decay of the d estimate's sums (sqrt(beta2) if unset)"),
        eps_param(1e-8),
        HParam(
            "estim_lr0",
            1e-6,
            "initial (under-)estimate d0 of the step size",
            low=0.0,
            low_open=True,
        ),
        HParam("estim_lr_coef", 1.0, "multiplies every estimate of d", low=0.0, low_open=True),
        weight_decay_param(0.0, decoupled=True),
        HParam("safeguard_warmup", False, "leave lr out of the d estimate's sum s", "bool"),
    )

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, float | int | bool]:
        values = super().validate(given)
        if not any(cls.canonical_name(key) == "beta3" for key in given):
            values["beta3"] = values["beta2"] ** 0.5
        return values

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        for name in ("exp_avg", "exp_avg_sq", "grad_sum"):
            self._new_state(params, name)
        self._new_state(params, "params0", params)
        self.state["estim_lr"] = self.h["estim_lr0"].copy()
        self.state["numerator_weighted"] = np.zeros((self.rows, 1), dtype=self.dtype)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        state = self.state
        exp_avg, exp_avg_sq, grad_sum = state["exp_avg"], state["exp_avg_sq"], state["grad_sum"]
        estim_lr, estim_lr0 = state["estim_lr"], self.h["estim_lr0"]
        beta1, beta2, beta3 = self.h["beta1"], self.h["beta2"], self.h["beta3"]
        dg, work = self._buffer("dg"), self._buffer("work")
        correction = (1 - beta2**self.t) ** 0.5 / (1 - beta1**self.t)
        dlr = estim_lr * self.lr * correction
        np.multiply(grads, estim_lr, out=dg)
        np.subtract(state["params0"], params, out=work)
        numerator_acum = tree_vdot(self, grads, work)
        exp_avg *= beta1
        np.multiply(dg, self._complement("beta1"), out=work)
        exp_avg += work
        exp_avg_sq *= beta2
        np.multiply(dg, self._complement("beta2"), out=work)
        work *= dg
        exp_avg_sq += work
        grad_sum *= beta3
        np.multiply(dg, estim_lr if self.flags["safeguard_warmup"] else dlr, out=work)
        work /= estim_lr0
        grad_sum += work
        numerator = state["numerator_weighted"]
        numerator *= beta3
        numerator += estim_lr / estim_lr0 * dlr * numerator_acum
        np.abs(grad_sum, out=work)
        lr_estimate = self.h["estim_lr_coef"] * numerator / tree_sum(self, work)
        np.maximum(estim_lr, lr_estimate, out=estim_lr)
        np.sqrt(exp_avg_sq, out=work)
        work += estim_lr * self.h["eps"]
        np.multiply(exp_avg, dlr, out=dg)
        dg /= work
        np.multiply(params, -self.h["weight_decay"] * dlr, out=work)
        work -= dg
        params += work

    def effective_step(self) -> np.ndarray:
        """d * dlr / (sqrt(v) + d * eps): what multiplies the momentum of g (m holds d * g)."""
        t = np.maximum(self.t, 1)
        d = self.state["estim_lr"]
        correction = (1 - self.h["beta2"] ** t) ** 0.5 / (1 - self.h["beta1"] ** t)
        step: np.ndarray = (
            d * (d * self.lr * correction) / (np.sqrt(self.state["exp_avg_sq"]) + d * self.h["eps"])
        )
        return step
