"""Signum (signSGD with momentum), exactly as optax.signum."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param
from tui_optim.engine.optimizers.optax_common import update_moment


class Signum(Optimizer):
    """Signum: step by the sign of a moving average of the gradient; every weight moves by
    exactly lr each step.

    Update rule (m starts at 0)::

        m = beta * m + (1 - beta) * g          (not bias-corrected: only its sign is used)
        w -= lr * sign(m)

    optax's default beta 0.9; it has no default learning rate, 1e-3 is ours. optax's
    spelling learning_rate is accepted.

    Reference: Bernstein et al., "signSGD: compressed optimisation for non-convex problems",
    arXiv:1802.04434 (ICML 2018); optax.signum (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.signum
    """

    name = "signum"
    summary = "Signum: sign of the gradient's moving average, lr per weight (optax.signum)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam(
            "beta",
            0.9,
            "decay of the gradient's moving average m",
            low=0.0,
            high=1.0,
            high_open=True,
            aliases=("momentum",),
        ),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "ema")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        ema, work = self.state["ema"], self._buffer("work")
        update_moment(self, ema, grads, "beta", work)
        np.sign(ema, out=work)
        work *= self.lr
        params -= work
