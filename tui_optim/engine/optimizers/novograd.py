"""NovoGrad, exactly as optax.novograd."""

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
    eps_root_param,
    optax_beta,
    spread,
    tensor_norms,
)


class NovoGrad(Optimizer):
    """NovoGrad: the gradient of each tensor is divided by one running RMS of that whole
    tensor's gradient norm (one number per layer, not per weight), then accumulated with
    momentum; half of Adam's memory.

    Update rule, for each weight matrix and bias vector separately (t counts from 1)::

        step 1:  v = |g|^2 ;                   m = g / (sqrt(v + eps_root) + eps) + wd * w
        later:   v = b2 * v + (1 - b2) * |g|^2 ;
                 m = b1 * m + g / (sqrt(v + eps_root) + eps) + wd * w
        w -= lr * m

    |g| is the tensor's Frobenius norm, wd the weight_decay. optax's defaults (b2 0.25); it
    has no default learning rate, 1e-2 is ours. optax's spellings learning_rate, b1 and b2
    are accepted.

    Reference: Ginsburg et al., "Stochastic gradient methods with layer-wise adaptive moments
    for training of deep networks", arXiv:1905.11286 (2019); optax.novograd (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.novograd
    """

    name = "novograd"
    summary = "NovoGrad: momentum of g over its tensor's RMS norm, per layer (optax.novograd)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-2),
        optax_beta("beta1", 0.9, "momentum of the normalised gradients"),
        optax_beta("beta2", 0.25, "decay of each tensor's squared gradient norm v"),
        eps_param(1e-6),
        eps_root_param(0.0),
        weight_decay_param(0.0, decoupled=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "mu")
        self.state["nu"] = np.zeros((self.rows, len(self.tensors)), dtype=self.dtype)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        first = self.t == 1
        mu, nu = self.state["mu"], self.state["nu"]
        update = self._buffer("update")
        norm = tensor_norms(self, grads)
        squared = norm * norm
        averaged = self._complement("beta2") * squared + self.h["beta2"] * nu
        nu[...] = np.where(first, squared, averaged)
        denominator = np.sqrt(nu + self.h["eps_root"]) + self.h["eps"]
        np.divide(grads, spread(self, denominator, grads.shape[1]), out=update)
        if self._uses("weight_decay"):
            update += self.h["weight_decay"] * params
        mu *= np.where(first, 0.0, self.h["beta1"])
        mu += update
        np.multiply(mu, self.lr, out=update)
        params -= update
