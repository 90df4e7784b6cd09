"""Adagrad, exactly as keras.optimizers.Adagrad."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)


class KerasAdagrad(KerasOptimizer):
    """Adagrad as Keras 3 runs it: the accumulator starts at 0.1, epsilon inside the root.

    Update rule (after ``w *= 1 - lr * weight_decay``; s starts at
    initial_accumulator_value)::

        s += g^2
        w -= lr * g / sqrt(s + eps)

    The 0.1 start caps the first steps at lr * |g| / sqrt(0.1 + g^2): where torch's Adagrad
    (s from 0) moves every weight by lr on its first step, Keras' moves small-gradient
    weights much less.

    Reference: Duchi, Hazan & Singer, JMLR 12 (2011);
    https://keras.io/api/optimizers/adagrad/
    """

    name = "adagrad"
    keras_class = "keras.optimizers.Adagrad"
    summary = "Adagrad: lr * g / sqrt(0.1 + sum g^2 + eps) (keras.optimizers.Adagrad)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam(
            "initial_accumulator_value",
            0.1,
            "starting value of the squared-gradient sum",
            low=0.0,
            aliases=("initial_accumulator",),
        ),
        eps_param(KERAS_EPSILON, "added to the sum inside the root"),
        *keras_base_params(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "accumulator", self.h["initial_accumulator_value"])

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        accumulator = self.state["accumulator"]
        work, root = self._buffer("work"), self._buffer("root")
        np.multiply(grads, grads, out=work)
        accumulator += work
        np.add(accumulator, self.h["eps"], out=root)
        np.sqrt(root, out=root)
        np.multiply(grads, lr, out=work)
        work /= root
        params -= work

    def effective_step(self) -> np.ndarray:
        return self.lr / np.sqrt(self.state["accumulator"] + self.h["eps"])
