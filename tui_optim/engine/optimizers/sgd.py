"""Stochastic gradient descent with torch.optim.SGD's momentum, dampening and Nesterov."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    HParam,
    HyperparameterError,
    Optimizer,
    lr_param,
    momentum_threshold,
    weight_decay_param,
)


class SGD(Optimizer):
    """SGD exactly as ``torch.optim.SGD`` (heavy-ball momentum, optional Nesterov).

    Update rule (g = gradient + weight_decay * w)::

        b = g                              at the first step
        b = momentum * b + (1 - dampening) * g   afterwards
        d = g + momentum * b  if nesterov  else  b      (d = g when momentum is 0)
        w -= lr * d

    This is not the course's ``v = gamma*v - lr*g`` form (see ``momentum``): torch keeps the
    learning rate outside the buffer, so the two agree only while lr stays constant.
    Keras' ``SGD(momentum, nesterov)`` is the same rule with the lr inside the buffer.

    Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html ;
    Sutskever et al., "On the importance of initialization and momentum in deep learning"
    (ICML 2013).
    """

    name = "sgd"
    summary = "plain SGD; optional momentum, dampening, Nesterov, weight decay (torch.optim.SGD)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam("momentum", 0.0, "momentum factor (0 = plain SGD)", low=0.0),
        HParam("dampening", 0.0, "dampening for momentum", low=0.0, high=1.0),
        weight_decay_param(),
        HParam("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening 0)", "bool"),
    )

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        if values["nesterov"] and (values["momentum"] <= 0 or values["dampening"] != 0):
            raise HyperparameterError(
                f"sgd.nesterov needs momentum > 0 and dampening 0, got "
                f"momentum={values['momentum']!r}, dampening={values['dampening']!r}"
            )

    @classmethod
    def stability_threshold(cls, hparams: Mapping[str, Any]) -> tuple[float, str] | None:
        momentum = float(hparams["momentum"]) * (1.0 - float(hparams["dampening"]))
        return momentum_threshold(float(hparams["lr"]), momentum, bool(hparams["nesterov"]))

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum_buffer")
        self._buffer("direction", params.shape)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        momentum = self.h["momentum"]
        direction = self._buffer("direction")
        if not self._uses("momentum"):
            # Plain SGD (torch skips the buffer too); the common racer, so keep it short.
            # p - lr g rounds as torch's p + (-lr) g: negation is exact
            np.multiply(grad, self.lr, out=direction)
            params -= direction
            return
        buffer = self.state["momentum_buffer"]
        # The buffer starts at 0, so "b = g" on the first step is b * m + 1 * g exactly.
        dampening = self.h["dampening"]
        buffer *= momentum
        if self._uses("dampening"):
            np.multiply(grad, np.where(self.t == 1, 1.0, 1.0 - dampening), out=direction)
            buffer += direction
        else:
            buffer += grad
        if self.flags["nesterov"]:
            np.multiply(buffer, momentum, out=direction)
            direction += grad
            direction *= self.lr
        else:
            np.multiply(buffer, self.lr, out=direction)
        params -= direction
