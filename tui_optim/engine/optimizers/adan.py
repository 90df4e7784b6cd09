"""Adan, exactly as optax.adan."""

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
    rms_effective_step,
    update_moment,
    update_moment_squared,
)


class Adan(Optimizer):
    """Adan (adaptive Nesterov momentum): Adam-like moments of the gradient and of its change
    between steps, which estimate the gradient at an extrapolated point without computing it.

    Update rule (m, v, n start at 0; d = g - g_prev, 0 at the first step; t counts from 1)::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * d
        n = b3 * n + (1 - b3) * (g + (1 - b2) * d)^2
        u = (m / (1 - b1^t) + (1 - b2) * v / (1 - b2^t))
            / (sqrt(n / (1 - b3^t) + eps_root) + eps)
        w -= lr * (u + weight_decay * w)

    optax's defaults (its docstring writes the averages with b and 1 - b swapped; its code,
    followed here, weights the old average by b). optax has no default learning rate; 1e-3
    is ours. optax's spellings learning_rate, b1, b2 and b3 are accepted.

    Reference: Xie et al., "Adan: adaptive Nesterov momentum algorithm for faster
    optimizing deep models", arXiv:2208.06677 (TPAMI 2024); optax.adan (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.adan
    """

    name = "adan"
    summary = "Adan: Adam-like moments of g and of its change, Nesterov-style (optax.adan)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        optax_beta("beta1", 0.98, "decay of the gradient mean m"),
        optax_beta("beta2", 0.92, "decay of the mean v of gradient changes"),
        optax_beta("beta3", 0.99, "decay of the squared mean n"),
        eps_param(1e-8),
        eps_root_param(1e-8),
        weight_decay_param(0.0, decoupled=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        for name in ("m", "v", "n", "previous_grad"):
            self._new_state(params, name)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        m, v, n, previous = (self.state[k] for k in ("m", "v", "n", "previous_grad"))
        change, work, update = self._buffer("change"), self._buffer("work"), self._buffer("u")
        np.subtract(grads, previous, out=change)
        change[self.t[:, 0] == 1] = 0.0
        previous[...] = grads
        update_moment(self, m, grads, "beta1", work)
        update_moment(self, v, change, "beta2", work)
        np.multiply(change, self._complement("beta2"), out=update)
        update += grads
        update_moment_squared(self, n, update, "beta3", work)
        np.divide(v, bias_correction(self.h["beta2"], self.t), out=update)
        update *= self._complement("beta2")
        np.divide(m, bias_correction(self.h["beta1"], self.t), out=work)
        update += work
        divide_by_corrected_rms(self, update, n, "beta3", work)
        add_decayed_weights(self, update, params, work)
        update *= self.lr
        params -= update

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(n_hat + eps_root) + eps): what multiplies the corrected momenta."""
        return rms_effective_step(self, "n", "beta3", with_eps_root=True)
