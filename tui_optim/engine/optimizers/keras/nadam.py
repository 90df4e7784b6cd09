"""Nadam, exactly as keras.optimizers.Nadam."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, beta_param, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)

#: Dozat's momentum schedule base; Keras raises it to the step itself (no 0.004 factor).
MOMENTUM_DECAY_BASE = 0.96


class KerasNadam(KerasOptimizer):
    """Nadam as Keras 3 runs it: Dozat's momentum schedule mu_t = beta_1 (1 - 0.5 * 0.96^t)
    and the running product of the mu's.

    Update rule (after ``w *= 1 - lr * weight_decay``; m, v start at 0, prod at 1)::

        mu_t  = beta_1 * (1 - 0.5 * 0.96^t) ;  prod *= mu_t
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = mu_{t+1} * m / (1 - prod * mu_{t+1}) + (1 - mu_t) * g / (1 - prod)
        w -= lr * m_hat / (sqrt(v / (1 - beta_2^t)) + eps)

    torch's NAdam uses 0.96^(0.004 t), so its mu stays near beta_1 / 2 for thousands of
    steps; Keras' mu reaches beta_1 within ~50 steps.

    Reference: Dozat, "Incorporating Nesterov momentum into Adam" (ICLR 2016 workshop);
    https://keras.io/api/optimizers/Nadam/
    """

    name = "nadam"
    keras_class = "keras.optimizers.Nadam"
    summary = "Nadam: Adam with Nesterov momentum, mu_t = b1 (1 - 0.96^t / 2) (keras Nadam)"
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
        self.state["u_product"] = np.ones((self.rows, 1), dtype=self.dtype)

    def _mu(self, t: np.ndarray) -> np.ndarray:
        return self.h["beta1"] * (1.0 - 0.5 * MOMENTUM_DECAY_BASE**t)

    def _denominator(self, out: np.ndarray) -> np.ndarray:
        np.divide(self.state["velocity"], 1 - self.h["beta2"] ** np.maximum(self.t, 1), out=out)
        np.sqrt(out, out=out)
        out += self.h["eps"]
        return out

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        momentum, velocity = self.state["momentum"], self.state["velocity"]
        product = self.state["u_product"]
        work, step = self._buffer("work"), self._buffer("step")
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        product *= mu
        product_next = product * mu_next
        momentum *= self.h["beta1"]
        np.multiply(grads, self._complement("beta1"), out=work)
        momentum += work
        velocity *= self.h["beta2"]
        np.multiply(grads, grads, out=work)
        work *= self._complement("beta2")
        velocity += work
        np.multiply(momentum, mu_next, out=step)
        step /= 1 - product_next
        np.multiply(grads, 1 - mu, out=work)
        work /= 1 - product
        step += work
        step *= lr
        step /= self._denominator(work)
        params -= step

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(v_hat) + eps), the per-weight scale of Nadam's step."""
        return self.lr / self._denominator(np.empty_like(self.state["velocity"]))
