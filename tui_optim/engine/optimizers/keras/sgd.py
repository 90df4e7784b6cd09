"""SGD with momentum and Nesterov, exactly as keras.optimizers.SGD."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, lr_param, momentum_threshold
from tui_optim.engine.optimizers.keras.base import KerasOptimizer, keras_base_params


class KerasSGD(KerasOptimizer):
    """SGD as Keras 3 runs it: the learning rate lives inside the velocity.

    Update rule (after ``w *= 1 - lr * weight_decay``; v starts at 0)::

        w -= lr * g                              (momentum 0)
        v = momentum * v - lr * g ;  w += v      (momentum > 0)
        v = momentum * v - lr * g ;  w += momentum * v - lr * g      (nesterov)

    This is the course's ``momentum``/``nesterov`` form, where torch's SGD keeps lr outside
    the buffer (the two agree while lr is constant).

    Reference: Sutskever et al., "On the importance of initialization and momentum in deep
    learning" (ICML 2013); https://keras.io/api/optimizers/sgd/
    """

    name = "sgd"
    keras_class = "keras.optimizers.SGD"
    summary = "SGD; momentum v = m*v - lr*g and Nesterov as Keras (keras.optimizers.SGD)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam("momentum", 0.0, "momentum factor (0 = plain SGD)", low=0.0, high=1.0),
        HParam("nesterov", False, "Nesterov momentum (no effect when momentum is 0)", "bool"),
        *keras_base_params(),
    )

    @classmethod
    def stability_threshold(cls, hparams: Mapping[str, Any]) -> tuple[float, str] | None:
        # with v = -lr * b this is torch's rule (b = m b + g), so the same thresholds hold
        return momentum_threshold(
            float(hparams["lr"]), float(hparams["momentum"]), bool(hparams["nesterov"])
        )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        scaled_grad = self._buffer("scaled_grad")
        np.multiply(grads, lr, out=scaled_grad)
        if not self._uses("momentum"):
            params -= scaled_grad
            return
        momentum = self.h["momentum"]
        velocity = self.state["momentum"]
        velocity *= momentum
        velocity -= scaled_grad
        if self.flags["nesterov"]:
            params -= scaled_grad
            np.multiply(velocity, momentum, out=scaled_grad)
            params += scaled_grad
        else:
            params += velocity
