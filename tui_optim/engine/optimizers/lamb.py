"""LAMB: Adam's direction rescaled per tensor by a trust ratio, as optax.lamb."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    HParam,
    Optimizer,
    eps_param,
    lr_param,
    weight_decay_param,
)
from tui_optim.engine.optimizers.optax_common import (
    add_decayed_weights,
    bias_correction,
    divide_by_corrected_rms,
    eps_root_param,
    optax_beta,
    spread,
    trust_ratios,
    update_moment,
    update_moment_squared,
)


class LAMB(Optimizer):
    """LAMB: the Adam direction plus weight decay, rescaled per tensor to ``|w| / |u|``.

    Update rule, for each weight matrix and bias vector separately (m, v start at 0; t
    counts from 1)::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g^2
        u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t) + eps_root) + eps) + weight_decay * w
        w -= lr * (|w| / |u|) * u               (ratio 1 where |w| or |u| is 0)

    Norms are Frobenius norms of the tensor. optax has no default learning rate; 1e-3 is
    ours. optax's spellings learning_rate, b1 and b2 are accepted.

    Reference: You et al., "Large batch optimization for deep learning: training BERT in 76
    minutes", arXiv:1904.00962 (ICLR 2020); optax.lamb (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lamb
    """

    name = "lamb"
    summary = "LAMB: Adam direction + decay, scaled per tensor by |w|/|u| (optax.lamb)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        optax_beta("beta1", 0.9, "decay of the gradient mean m"),
        optax_beta("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(1e-6),
        eps_root_param(0.0),
        weight_decay_param(0.0, decoupled=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "mu")
        self._new_state(params, "nu")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        mu, nu = self.state["mu"], self.state["nu"]
        work, update = self._buffer("work"), self._buffer("update")
        update_moment(self, mu, grads, "beta1", work)
        update_moment_squared(self, nu, grads, "beta2", work)
        np.divide(mu, bias_correction(self.h["beta1"], self.t), out=update)
        divide_by_corrected_rms(self, update, nu, "beta2", work)
        add_decayed_weights(self, update, params, work)
        update *= spread(self, trust_ratios(self, params, update), update.shape[1])
        update *= self.lr
        params -= update
