"""LARS: SGD with momentum whose step is rescaled per tensor by a trust ratio, as optax.lars."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param, weight_decay_param
from tui_optim.engine.optimizers.optax_common import spread, trust_ratios


class LARS(Optimizer):
    """LARS: each tensor's step is scaled to a fixed fraction of its weights' norm, then
    accumulated with (heavy-ball or Nesterov) momentum.

    Update rule, for each weight matrix and bias vector separately (velocity v starts at 0)::

        u = g + weight_decay * w
        u = trust_coefficient * |w| / (|u| + eps) * u    (factor 1 where |w| or |u| is 0)
        v = momentum * v + lr * u
        w -= v                                   (w -= momentum * v + lr * u with nesterov)

    Norms are Frobenius norms of the tensor. Every tensor gets decay and trust ratio (optax's
    weight_decay_mask and trust_ratio_mask at their default, True). optax has no default
    learning rate; 1.0 is ours (the step of a tensor is then trust_coefficient times its norm).
    optax's spelling learning_rate is accepted.

    Reference: You, Gitman & Ginsburg, "Large batch training of convolutional networks",
    arXiv:1708.03888 (2017); optax.lars (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lars
    """

    name = "lars"
    summary = "LARS: momentum SGD, each tensor's step scaled to |w|/|g| (optax.lars)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1.0),
        weight_decay_param(0.0),
        HParam(
            "trust_coefficient",
            0.001,
            "the step of a tensor relative to its weights' norm",
            low=0.0,
            low_open=True,
        ),
        HParam("eps", 0.0, "added to the update's norm in the trust ratio", low=0.0),
        HParam("momentum", 0.9, "decay of the velocity", low=0.0, high=1.0, high_open=True),
        HParam("nesterov", False, "Nesterov momentum", "bool"),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "trace")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        trace = self.state["trace"]
        update, work = self._buffer("update"), self._buffer("work")
        np.multiply(params, self.h["weight_decay"], out=update)
        update += grads
        ratios = trust_ratios(
            self, params, update, coefficient=self.h["trust_coefficient"], eps=self.h["eps"]
        )
        update *= spread(self, ratios, update.shape[1])
        update *= self.lr
        momentum = self.h["momentum"]
        trace *= momentum
        trace += update
        if self.flags["nesterov"]:
            np.multiply(trace, momentum, out=work)
            work += update
            params -= work
        else:
            params -= trace
