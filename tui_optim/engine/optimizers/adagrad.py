"""Adagrad, exactly as torch.optim.Adagrad."""

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


class Adagrad(Optimizer):
    """Adagrad: per-weight steps shrink with the sum of all squared past gradients.

    Update rule (g = gradient + weight_decay * w; ``s`` starts at
    initial_accumulator_value)::

        lr_t = lr / (1 + (t - 1) * lr_decay)
        s += g^2
        w -= lr_t * g / (sqrt(s) + eps)

    The course writes ``lr / sqrt(sum g^2 + eps)``; torch (and we) put eps outside the root.
    Because ``s`` only grows, the effective step ``lr_t / (sqrt(s) + eps)`` keeps falling:
    Adagrad stalls on long runs.

    Reference: Duchi, Hazan & Singer, JMLR 12 (2011);
    https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html
    """

    name = "adagrad"
    summary = "Adagrad: lr / sqrt(sum of squared gradients); steps shrink forever (torch)"
    shrinking_step = "Adagrad's step only shrinks: its sum of squared gradients only grows"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam("lr_decay", 0.0, "lr_t = lr / (1 + (t - 1) * lr_decay)", low=0.0),
        weight_decay_param(),
        HParam(
            "initial_accumulator_value",
            0.0,
            "starting value of the squared-gradient sum",
            low=0.0,
            aliases=("initial_accumulator",),
        ),
        eps_param(1e-10),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "sum", self.h["initial_accumulator_value"])

    def _decayed_lr(self) -> np.ndarray:
        return self.lr / (1 + (np.maximum(self.t, 1) - 1) * self.h["lr_decay"])

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        total = self.state["sum"]
        std, update = self._buffer("std"), self._buffer("update")
        np.multiply(grad, grad, out=update)
        total += update
        np.sqrt(total, out=std)
        std += self.h["eps"]
        np.multiply(grad, -self._decayed_lr(), out=update)
        update /= std
        params += update

    def effective_step(self) -> np.ndarray:
        return self._decayed_lr() / (np.sqrt(self.state["sum"]) + self.h["eps"])
