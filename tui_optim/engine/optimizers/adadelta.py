"""Adadelta, exactly as torch.optim.Adadelta (with the E[dx^2] accumulator)."""

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


class Adadelta(Optimizer):
    """Adadelta: RMSprop whose step size is the RMS of past updates (units match w's).

    Update rule (g = gradient + weight_decay * w; both averages start at 0)::

        E[g^2]  = rho * E[g^2] + (1 - rho) * g^2
        dx      = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
        E[dx^2] = rho * E[dx^2] + (1 - rho) * dx^2
        w -= lr * dx

    lr defaults to 1.0 (Zeiler's method has no learning rate; Keras' default 0.001 makes it
    crawl, hence the course's advice to use ~1).

    Course note: the formula the course calls "AdaDelta" (E[g^2] = gamma*E[g^2] +
    (1-gamma)*g^2 ; w -= lr/sqrt(E[g^2]+eps) * g) has no E[dx^2] term: that is RMSprop.
    Race ``rmsprop`` (alpha = the course's gamma) to run the course's formula.

    Reference: Zeiler, "ADADELTA: an adaptive learning rate method", arXiv:1212.5701 (2012);
    https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html
    """

    name = "adadelta"
    summary = "Adadelta with E[dx^2] (lr ~1); the course's 'AdaDelta' formula is rmsprop"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1.0),
        HParam("rho", 0.9, "decay of both running averages", low=0.0, high=1.0),
        eps_param(1e-6),
        weight_decay_param(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "square_avg")
        self._new_state(params, "acc_delta")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        rho, eps = self.h["rho"], self.h["eps"]
        square_avg, acc_delta = self.state["square_avg"], self.state["acc_delta"]
        std, delta, work = self._buffer("std"), self._buffer("delta"), self._buffer("work")
        square_avg *= rho
        np.multiply(grad, self._complement("rho"), out=work)
        work *= grad
        square_avg += work
        np.add(square_avg, eps, out=std)
        np.sqrt(std, out=std)
        np.add(acc_delta, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        np.multiply(delta, self._complement("rho"), out=work)
        work *= delta
        acc_delta += work
        delta *= -self.lr
        params += delta

    def effective_step(self) -> np.ndarray:
        eps = self.h["eps"]
        return (
            self.lr
            * np.sqrt(self.state["acc_delta"] + eps)
            / np.sqrt(self.state["square_avg"] + eps)
        )
