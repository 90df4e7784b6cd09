"""FTRL-Proximal, exactly as keras.optimizers.Ftrl."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, lr_param
from tui_optim.engine.optimizers.keras.base import KerasOptimizer, keras_base_params


class KerasFtrl(KerasOptimizer):
    """FTRL-Proximal ("follow the regularized leader") as Keras 3 runs it: the weights are
    solved for from a running linear term, not stepped.

    Update rule (after ``w *= 1 - lr * weight_decay``; n starts at
    initial_accumulator_value, z at 0; p = -lr_power, 0.5 by default)::

        n_new  = n + g^2
        z     += g + 2 * l2_shrinkage * w - (n_new^p - n^p) / lr * w
        q      = n_new^p / lr + 2 * (l2 + beta / (2 * lr))
        w      = (clip(z, -l1, l1) - z) / q                ( = 0 where |z| <= l1 )
        n      = n_new

    With l1 > 0 weights are exactly 0 until their accumulated evidence |z| exceeds l1.

    Reference: McMahan et al., "Ad click prediction: a view from the trenches" (KDD 2013),
    Algorithm 1; https://keras.io/api/optimizers/ftrl/
    """

    name = "ftrl"
    keras_class = "keras.optimizers.Ftrl"
    summary = "FTRL-Proximal: weights solved from a running linear term, L1/L2 (keras Ftrl)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam(
            "lr_power",
            -0.5,
            "how the per-weight rate falls with n (0 = fixed rate)",
            high=0.0,
            aliases=("learning_rate_power",),
        ),
        HParam(
            "initial_accumulator_value",
            0.1,
            "starting value of the squared-gradient sum n",
            low=0.0,
        ),
        HParam("l1", 0.0, "L1 strength", low=0.0, aliases=("l1_regularization_strength",)),
        HParam("l2", 0.0, "L2 (stabilisation) strength", low=0.0,
               aliases=("l2_regularization_strength",)),
        HParam(
            "l2_shrinkage",
            0.0,
            "L2 penalty on the magnitude, added to the gradient as 2 * l2_shrinkage * w",
            low=0.0,
            aliases=("l2_shrinkage_regularization_strength",),
        ),
        HParam("beta", 0.0, "the paper's beta: adds beta / (2 lr) to l2", low=0.0),
        *keras_base_params(),
    )  # fmt: skip

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "accumulator", self.h["initial_accumulator_value"])
        self._new_state(params, "linear")

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        accumulator, linear = self.state["accumulator"], self.state["linear"]
        power = -self.h["lr_power"]
        fresh, work, old = self._buffer("fresh"), self._buffer("work"), self._buffer("old")
        np.multiply(grads, grads, out=fresh)
        fresh += accumulator
        np.power(accumulator, power, out=old)
        np.power(fresh, power, out=work)
        np.subtract(work, old, out=old)
        old /= lr
        old *= params
        np.multiply(params, 2 * self.h["l2_shrinkage"], out=work)
        work += grads
        work -= old
        linear += work
        np.power(fresh, power, out=old)
        old /= lr
        old += 2 * (self.h["l2"] + self.h["beta"] / (2.0 * lr))
        l1 = self.h["l1"]
        np.clip(linear, -l1, l1, out=work)
        work -= linear
        np.divide(work, old, out=params)
        accumulator[...] = fresh
