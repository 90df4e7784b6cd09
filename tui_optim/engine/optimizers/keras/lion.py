"""Lion, exactly as keras.optimizers.Lion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, HyperparameterError, beta_param, lr_param
from tui_optim.engine.optimizers.keras.base import KerasOptimizer, keras_base_params


class KerasLion(KerasOptimizer):
    """Lion as Keras 3 runs it: every weight moves by lr per step, lr 1e-3 by default.

    Update rule (after ``w *= 1 - lr * weight_decay``; m starts at 0)::

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    The rule is the paper's (and ``lion``'s, torch flavor); Keras' default lr is 10x larger.

    Reference: Chen et al., "Symbolic discovery of optimization algorithms",
    arXiv:2302.06675; https://keras.io/api/optimizers/lion/
    """

    name = "lion"
    keras_class = "keras.optimizers.Lion"
    summary = "Lion: w -= lr * sign(b1*m + (1-b1)*g), lr 1e-3 (keras.optimizers.Lion)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "interpolation between momentum and gradient for the step"),
        beta_param("beta2", 0.99, "decay of the momentum m"),
        *keras_base_params(),
    )

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        super().check_combination(values)
        if values["beta1"] <= 0:
            raise HyperparameterError(
                f"lion.beta1 must be in (0, 1) (0 makes it SignSGD), got {values['beta1']!r}"
            )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        momentum = self.state["momentum"]
        work, mixed = self._buffer("work"), self._buffer("mixed")
        np.multiply(momentum, self.h["beta1"], out=mixed)
        np.multiply(grads, self._complement("beta1"), out=work)
        mixed += work
        np.sign(mixed, out=mixed)
        mixed *= lr
        params -= mixed
        momentum *= self.h["beta2"]
        np.multiply(grads, self._complement("beta2"), out=work)
        momentum += work
