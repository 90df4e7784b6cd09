"""Hinton's per-weight adaptive gains (delta-bar-delta style)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    HParam,
    HyperparameterError,
    Optimizer,
    lr_param,
)


class AdaptiveGains(Optimizer):
    """Each weight has a gain that grows while its gradient keeps its sign.

    Update rule (course part 5)::

        if g * g_prev > 0:  gain += gain_up          (default 0.05, additive)
        if g * g_prev < 0:  gain *= gain_down        (default 0.95, multiplicative)
        gain = clip(gain, gain_min, gain_max)        (default [0.1, 10]; the notes also
                                                      mention [0.01, 100])
        w -= lr * gain * g

    Gains start at 1. A product of exactly 0 (the first step, or a zero gradient) leaves
    the gain unchanged: there is no sign to compare. Meant for large mini-batches or the
    full batch, where gradient signs are not dominated by sampling noise.

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6d; Jacobs,
    "Increased rates of convergence through learning rate adaptation" (1988).
    """

    name = "adaptive_gains"
    summary = "Hinton's per-weight gains: +0.05 while the gradient sign repeats, x0.95 on a flip"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam("gain_up", 0.05, "added to a gain when the gradient sign repeats", low=0.0),
        HParam(
            "gain_down",
            0.95,
            "a gain is multiplied by this when the gradient sign flips",
            low=0.0,
            high=1.0,
            low_open=True,
        ),
        HParam("gain_min", 0.1, "lower clamp of the gains", low=0.0, low_open=True),
        HParam("gain_max", 10.0, "upper clamp of the gains", low=0.0, low_open=True),
    )

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        if values["gain_min"] > values["gain_max"]:
            raise HyperparameterError(
                f"adaptive_gains.gain_min must be <= gain_max, got "
                f"gain_min={values['gain_min']!r} > gain_max={values['gain_max']!r}"
            )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "gains", 1.0)
        self._new_state(params, "previous_grad")
        self._buffer("product", params.shape)
        self._buffer("increase", params.shape)
        self._scratch["same_sign"] = np.empty(params.shape, dtype=bool)
        self._scratch["flipped"] = np.empty(params.shape, dtype=bool)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        gains, previous = self.state["gains"], self.state["previous_grad"]
        product, increase = self._scratch["product"], self._scratch["increase"]
        same_sign, flipped = self._scratch["same_sign"], self._scratch["flipped"]
        np.multiply(grads, previous, out=product)
        np.greater(product, 0, out=same_sign)
        np.less(product, 0, out=flipped)
        # Two masked in-place updates; broadcasting the (r, 1) columns keeps rows apart.
        np.add(gains, self.h["gain_up"], out=increase)
        np.copyto(gains, increase, where=same_sign)
        np.multiply(gains, self.h["gain_down"], out=increase)
        np.copyto(gains, increase, where=flipped)
        np.clip(gains, self.h["gain_min"], self.h["gain_max"], out=gains)
        previous[...] = grads
        np.multiply(grads, gains, out=product)
        product *= self.lr
        params -= product

    def effective_step(self) -> np.ndarray:
        return self.lr * self.state["gains"]
