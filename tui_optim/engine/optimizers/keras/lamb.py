"""LAMB, exactly as keras.optimizers.Lamb (a trust ratio per weight matrix and bias)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, beta_param, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasLamb(KerasOptimizer):
    """LAMB as Keras 3 runs it: Adam's direction, rescaled per tensor to the tensor's norm.

    Update rule (after ``w *= 1 - lr * weight_decay``; m, v start at 0), for each weight
    matrix and each bias vector W separately::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        u = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + eps)
        ratio = ||W|| / ||u||        (1 when either norm is 0)
        W -= ratio * lr * u

    Every tensor moves by lr times its own norm per step, whatever its gradients' scale.

    Reference: You et al., "Large batch optimization for deep learning: training BERT in
    76 minutes" (ICLR 2020), Algorithm 2; https://keras.io/api/optimizers/lamb/
    """

    name = "lamb"
    keras_class = "keras.optimizers.Lamb"
    summary = "LAMB: Adam's direction scaled per tensor by ||W|| / ||u|| (keras.optimizers.Lamb)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(KERAS_EPSILON, "added to sqrt(v_hat)"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")
        self._new_state(params, "velocity")

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        momentum, velocity = self.state["momentum"], self.state["velocity"]
        work, direction = self._buffer("work"), self._buffer("direction")
        t = np.maximum(self.t, 1)
        np.subtract(grads, momentum, out=work)
        work *= self._complement("beta1")
        momentum += work
        np.multiply(grads, grads, out=work)
        work -= velocity
        work *= self._complement("beta2")
        velocity += work
        np.divide(velocity, 1.0 - self.h["beta2"] ** t, out=work)
        np.sqrt(work, out=work)
        work += self.h["eps"]
        np.divide(momentum, 1.0 - self.h["beta1"] ** t, out=direction)
        direction /= work
        for tensor in self.tensors:
            weights, step = params[:, tensor.columns], direction[:, tensor.columns]
            weight_norm = np.sqrt(np.sum(np.square(weights), axis=1, keepdims=True))
            step_norm = np.sqrt(np.sum(np.square(step), axis=1, keepdims=True))
            both = (weight_norm > 0) & (step_norm > 0)
            ratio = np.where(both, weight_norm / np.where(both, step_norm, 1.0), 1.0)
            weights -= (ratio * lr) * step
