"""AdEMAMix, exactly as optax.contrib.ademamix."""

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


class AdEMAMix(Optimizer):
    """AdEMAMix: AdamW whose numerator mixes a fast momentum with a very slow one, so
    gradients thousands of steps old still count.

    Update rule (m1, m2, nu start at 0; t counts from 1)::

        m1 = b1 * m1 + (1 - b1) * g             (fast)
        m2 = b3 * m2 + (1 - b3) * g             (slow, not bias-corrected)
        nu = b2 * nu + (1 - b2) * g^2
        u = (m1 / (1 - b1^t) + alpha * m2) / (sqrt(nu / (1 - b2^t) + eps_root) + eps)
        w -= lr * (u + weight_decay * w)

    optax's defaults (alpha 5, b3 0.9999; constant alpha and b3, not optax's optional
    schedules for them); optax has no default learning rate, 1e-3 is ours. optax's spellings
    learning_rate, b1, b2 and b3 are accepted.

    Reference: Pagliardini, Ablin & Grangier, "The AdEMAMix optimizer: better, faster,
    older", arXiv:2409.03137 (ICLR 2025); optax.contrib.ademamix (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.ademamix
    """

    name = "ademamix"
    summary = "AdEMAMix: AdamW with a fast and a very slow momentum mixed (optax.contrib)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        optax_beta("beta1", 0.9, "decay of the fast gradient mean m1"),
        optax_beta("beta2", 0.999, "decay of the squared-gradient mean nu"),
        optax_beta("beta3", 0.9999, "decay of the slow gradient mean m2"),
        HParam("alpha", 5.0, "weight of the slow mean m2", low=0.0),
        eps_param(1e-8),
        eps_root_param(0.0),
        weight_decay_param(0.0, decoupled=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        for name in ("m1", "m2", "nu"):
            self._new_state(params, name)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        m1, m2, nu = self.state["m1"], self.state["m2"], self.state["nu"]
        work, update = self._buffer("work"), self._buffer("update")
        update_moment(self, m1, grads, "beta1", work)
        update_moment(self, m2, grads, "beta3", work)
        update_moment_squared(self, nu, grads, "beta2", work)
        np.divide(m1, bias_correction(self.h["beta1"], self.t), out=update)
        np.multiply(m2, self.h["alpha"], out=work)
        update += work
        divide_by_corrected_rms(self, update, nu, "beta2", work)
        add_decayed_weights(self, update, params, work)
        update *= self.lr
        params -= update

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(nu_hat + eps_root) + eps): what multiplies the mixed momenta."""
        return rms_effective_step(self, "nu", "beta2", with_eps_root=True)
