"""Adam, AMSGrad and AdamW, exactly as keras.optimizers.Adam / AdamW."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, beta_param, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasAdam(KerasOptimizer):
    """Adam as Keras 3 runs it: the bias corrections folded into the step size, and an
    epsilon that is not corrected.

    Update rule (after ``w *= 1 - lr * weight_decay``; m, v start at 0; t counts from 1)::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        v_max = max(v_max, v)                         (amsgrad only; used instead of v)
        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= alpha * m / (sqrt(v) + eps)

    This is Kingma & Ba's "epsilon hat" form: torch's divides by sqrt(v_hat) + eps, which
    equals this one with eps * sqrt(1 - beta_2^t) (so Keras' eps weighs more early on).

    Reference: Kingma & Ba, arXiv:1412.6980 (section 2, the form before 2.1); Reddi et al.
    (ICLR 2018) for amsgrad; https://keras.io/api/optimizers/adam/
    """

    name = "adam"
    keras_class = "keras.optimizers.Adam"
    summary = "Adam: lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps) (keras.optimizers.Adam)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(KERAS_EPSILON, "added to sqrt(v) (not bias-corrected)"),
        HParam("amsgrad", False, "use the running maximum of v (AMSGrad)", "bool"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")
        self._new_state(params, "velocity")
        if self.flags["amsgrad"]:
            self._new_state(params, "velocity_hat")

    def _second_moment(self) -> np.ndarray:
        return self.state["velocity_hat" if self.flags["amsgrad"] else "velocity"]

    def _alpha(self, lr: np.ndarray) -> np.ndarray:
        t = np.maximum(self.t, 1)
        return lr * np.sqrt(1 - self.h["beta2"] ** t) / (1 - self.h["beta1"] ** t)

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        momentum, velocity = self.state["momentum"], self.state["velocity"]
        work, denominator = self._buffer("work"), self._buffer("denominator")
        momentum *= self.h["beta1"]
        np.multiply(grads, self._complement("beta1"), out=work)
        momentum += work
        velocity *= self.h["beta2"]
        np.multiply(grads, grads, out=work)
        work *= self._complement("beta2")
        velocity += work
        if self.flags["amsgrad"]:
            most = self.state["velocity_hat"]
            np.maximum(most, velocity, out=most)
        np.sqrt(self._second_moment(), out=denominator)
        denominator += self.h["eps"]
        np.multiply(momentum, self._alpha(lr), out=work)
        work /= denominator
        params -= work

    def effective_step(self) -> np.ndarray:
        """alpha / (sqrt(v) + eps): what multiplies the momentum m."""
        return self._alpha(self.lr) / (np.sqrt(self._second_moment()) + self.h["eps"])


class KerasAMSGrad(KerasAdam):
    """AMSGrad: Keras' Adam with ``amsgrad=True``, raced as its own optimizer as in the
    course's zoo.

    Update rule: see ``adam`` (keras flavor); the denominator uses the running maximum
    ``v_max = max(v_max, v)`` of the uncorrected v.

    Reference: Reddi, Kale & Kumar, "On the convergence of Adam and beyond" (ICLR 2018);
    https://keras.io/api/optimizers/adam/
    """

    name = "amsgrad"
    keras_class = "keras.optimizers.Adam(amsgrad=True)"
    summary = "AMSGrad: Keras' Adam dividing by the running maximum of v (amsgrad=True)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        *KerasAdam.hparams[:4],
        HParam("amsgrad", True, "use the running maximum of v (AMSGrad)", "bool"),
        *KerasAdam.hparams[5:],
    )


class KerasAdamW(KerasAdam):
    """AdamW: Keras' Adam with its base optimizer's decoupled decay on, 0.004 by default.

    Update rule: ``w *= 1 - lr * weight_decay``, then the ``adam`` (keras flavor) step with
    the raw gradient. In Keras, Adam(weight_decay=x) is this same optimizer.

    Reference: Loshchilov & Hutter, "Decoupled weight decay regularization" (ICLR 2019);
    https://keras.io/api/optimizers/adamw/
    """

    name = "adamw"
    keras_class = "keras.optimizers.AdamW"
    summary = "AdamW: w *= 1 - lr*wd (0.004), then Keras' Adam (keras.optimizers.AdamW)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        *KerasAdam.hparams[:5],
        *keras_base_params(0.004),
    )
