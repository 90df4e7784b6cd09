"""Lion (EvoLved Sign Momentum); not in torch.optim."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    BETAS,
    HParam,
    Optimizer,
    beta_param,
    lr_param,
    weight_decay_param,
)


class Lion(Optimizer):
    """Lion: step by the sign of an interpolated momentum; every weight moves by lr.

    Update rule (m starts at 0)::

        c = beta1 * m + (1 - beta1) * g
        w *= 1 - lr * weight_decay                  (decoupled, as AdamW)
        w -= lr * sign(c)
        m = beta2 * m + (1 - beta2) * g

    Every step has size lr per weight, so Lion wants an lr 3-10x smaller than Adam's.

    Reference: Chen et al., "Symbolic discovery of optimization algorithms",
    arXiv:2302.06675 (2023), Program 1. Defaults are the paper's.
    """

    name = "lion"
    summary = "Lion: sign of interpolated momentum, lr per weight per step (Chen et al. 2023)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-4),
        beta_param("beta1", 0.9, "interpolation between momentum and gradient for the step"),
        beta_param("beta2", 0.99, "decay of the momentum m"),
        weight_decay_param(decoupled=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "exp_avg")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        exp_avg = self.state["exp_avg"]
        work, mixed = self._buffer("work"), self._buffer("mixed")
        beta1, beta2 = self.h["beta1"], self.h["beta2"]
        np.multiply(exp_avg, beta1, out=mixed)
        np.multiply(grads, self._complement("beta1"), out=work)
        mixed += work
        self._decay_weights(params, lr)
        np.sign(mixed, out=mixed)
        mixed *= lr
        params -= mixed
        exp_avg *= beta2
        np.multiply(grads, self._complement("beta2"), out=work)
        exp_avg += work
