"""Fromage, exactly as optax.fromage."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param
from tui_optim.engine.optimizers.optax_common import spread, trust_ratios


class Fromage(Optimizer):
    """Fromage (Frobenius matched gradient descent): each tensor steps a fixed fraction lr of
    its own norm along the gradient, then shrinks so its norm does not grow.

    Update rule, for each weight matrix and bias vector separately (no state)::

        c = 1 / sqrt(1 + lr^2)
        w = w - lr * c * (max(|w|, min_norm) / max(|g|, min_norm)) * g + (c - 1) * w

    (ratio 1 where |w| or |g| is 0.) Norms are Frobenius norms of the tensor. optax's
    default min_norm 1e-6; it has no default learning rate, 0.01 is ours (the paper's).
    optax's spelling learning_rate is accepted.

    Reference: Bernstein et al., "On the distance between two neural networks and the
    stability of learning", arXiv:2002.03432 (NeurIPS 2020); optax.fromage (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.fromage
    """

    name = "fromage"
    summary = "Fromage: each tensor moves lr times its norm, then shrinks (optax.fromage)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam("min_norm", 1e-6, "floor of both norms in the trust ratio", low=0.0),
    )

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        update = self._buffer("update", params.shape)
        np.copyto(update, grads)
        ratios = trust_ratios(self, params, update, min_norm=self.h["min_norm"])
        update *= spread(self, ratios, update.shape[1])
        lr = self.lr
        shrink = 1 / (1 + lr**2) ** 0.5
        update *= -(lr * shrink)
        update += (shrink - 1) * params
        params += update
