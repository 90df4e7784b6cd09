"""MADGRAD, exactly as optax.contrib.madgrad."""

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


class MADGRAD(Optimizer):
    """MADGRAD: momentumized dual averaging; the weights are pulled towards the start point
    minus a weighted sum of all gradients, divided by the cube root of their squares.

    Update rule (S, G start at 0; w0 the initial weights; k = steps taken before this one)::

        g = g + weight_decay * w                  (L2 penalty)
        c = (lr + eps) * sqrt(k + 1)
        G = G + c * g^2 ;  S = S + c * g
        z = w0 - S / (cbrt(G) + eps)
        w = (1 - momentum) * z + momentum * w

    c is rounded to float32 as optax computes it (its int32 step count makes jax take the
    square root in float32). optax's defaults; it has no default learning rate, 1e-2 is
    ours (the paper's usual range). optax's spelling learning_rate is accepted.

    Reference: Defazio & Jelassi, "Adaptivity without compromise: a momentumized, adaptive,
    dual averaged gradient method for stochastic optimization", arXiv:2101.11075 (JMLR
    2022); optax.contrib.madgrad (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.madgrad
    """

    name = "madgrad"
    summary = "MADGRAD: momentumized dual averaging with cube-root scaling (optax.contrib)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-2),
        HParam(
            "momentum",
            0.9,
            "weight of the current weights against the dual-averaging point z",
            low=0.0,
            high=1.0,
            high_open=True,
        ),
        weight_decay_param(0.0),
        eps_param(1e-6),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "grad_sum_sq")
        self._new_state(params, "s")
        self._new_state(params, "x0", params)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        steps = self.t.astype(np.float32) + np.float32(1)
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        grad_sum_sq, s = self.state["grad_sum_sq"], self.state["s"]
        work, point = self._buffer("work"), self._buffer("point")
        lr_stable = (self.lr + self.h["eps"]).astype(np.float32)
        weight = (lr_stable * np.sqrt(steps)).astype(self.dtype)
        np.multiply(grad, grad, out=work)
        work *= weight
        grad_sum_sq += work
        np.multiply(grad, weight, out=work)
        s += work
        np.cbrt(grad_sum_sq, out=work)
        work += self.h["eps"]
        np.divide(s, work, out=point)
        np.subtract(self.state["x0"], point, out=point)
        point *= self._complement("momentum")
        np.multiply(params, self.h["momentum"], out=work)
        point += work
        point -= params
        params += point
