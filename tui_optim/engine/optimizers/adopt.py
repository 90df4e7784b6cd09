"""ADOPT, exactly as optax.contrib.adopt."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, eps_param, lr_param
from tui_optim.engine.optimizers.optax_common import optax_beta


class ADOPT(Optimizer):
    """ADOPT: Adam that normalises g by the second moment of the *previous* steps (so g and
    its scale are independent) before taking the momentum; converges for any beta2.

    Update rule (m, v start at 0; k = steps taken before this one)::

        step 1 (k = 0):  v = g^2 ; m stays 0 ; w does not move
        later:           u = clip(g / max(sqrt(v), eps), -k^0.25, k^0.25)   (use_clipping)
                         m = b1 * m + (1 - b1) * u
                         v = b2 * v + (1 - b2) * g^2
                         w -= lr * m          (lr * (b1 * m + (1 - b1) * u) with nesterov)

    optax's defaults (b2 0.9999, eps 1e-6, clipping at k^0.25 on); it has no default
    learning rate, 1e-3 is ours. optax's spellings learning_rate, b1 and b2 are accepted.

    Reference: Taniguchi et al., "ADOPT: modified Adam can converge with any beta2 with the
    optimal rate", arXiv:2411.02853 (NeurIPS 2024); optax.contrib.adopt (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.adopt
    """

    name = "adopt"
    summary = "ADOPT: momentum of g normalised by the previous steps' RMS (optax.contrib)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        optax_beta("beta1", 0.9, "decay of the momentum m of normalised gradients"),
        optax_beta("beta2", 0.9999, "decay of the squared-gradient mean v"),
        eps_param(1e-6, "lower bound of sqrt(v) when normalising g"),
        HParam("nesterov", False, "Nesterov momentum", "bool"),
        HParam("use_clipping", True, "clip normalised gradients to +-k^0.25", "bool"),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "mu")
        self._new_state(params, "nu")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        taken = self.t.copy()
        self._count_step()
        mu, nu = self.state["mu"], self.state["nu"]
        first = taken == 0
        beta1 = np.where(first, 1.0, self.h["beta1"])
        beta2 = np.where(first, 0.0, self.h["beta2"])
        normalised, work = self._buffer("normalised"), self._buffer("work")
        np.sqrt(nu, out=work)
        np.maximum(work, self.h["eps"], out=work)
        np.divide(grads, work, out=normalised)
        if self.flags["use_clipping"]:
            limit = taken**0.25
            np.clip(normalised, -limit, limit, out=normalised)
        np.multiply(grads, grads, out=work)
        work *= 1 - beta2
        nu *= beta2
        nu += work
        np.multiply(normalised, 1 - beta1, out=work)
        mu *= beta1
        mu += work
        if self.flags["nesterov"]:
            np.multiply(mu, beta1, out=normalised)
            normalised += work
            step = normalised
        else:
            step = work
            np.copyto(step, mu)
        step *= self.lr
        params -= step

    def effective_step(self) -> np.ndarray:
        """lr / max(sqrt(v), eps): what multiplies the next gradient (before the momentum)."""
        step: np.ndarray = self.lr / np.maximum(np.sqrt(self.state["nu"]), self.h["eps"])
        return step
