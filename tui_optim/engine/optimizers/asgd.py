"""ASGD, exactly as torch.optim.ASGD."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param, weight_decay_param


class ASGD(Optimizer):
    """Averaged SGD: SGD with a decaying step size, keeping a running average of the weights.

    Update rule (g = gradient + weight_decay * w; eta starts at lr, mu at 1, ax at 0)::

        w *= 1 - lambd * eta
        w -= eta * g
        ax = w                      if mu == 1
        ax += mu * (w - ax)         otherwise
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu  = 1 / max(1, t - t0)

    The racer's weights are ``w`` (torch steps ``w`` and keeps the average ``ax`` as
    optimizer state, which the detail screen shows as ``|ax|``). With torch's default
    t0 = 1e6 the averaging starts only after a million steps.

    Reference: Polyak & Juditsky, "Acceleration of stochastic approximation by averaging"
    (1992); Bottou, "Stochastic gradient descent tricks" (2012);
    https://pytorch.org/docs/stable/generated/torch.optim.ASGD.html
    """

    name = "asgd"
    summary = "ASGD: SGD with a decaying step and a running weight average (torch.optim.ASGD)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-2),
        HParam("lambd", 1e-4, "decay term: eta = lr / (1 + lambd lr t)^alpha", low=0.0),
        HParam("alpha", 0.75, "power of the step-size decay", low=0.0),
        HParam("t0", 1e6, "step after which the weight average starts", low=0.0),
        weight_decay_param(),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "ax")
        self.state["eta"] = self.lr.copy()
        self.state["mu"] = np.ones((self.rows, 1), dtype=self.dtype)
        self._buffer("work", params.shape)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        eta, mu, ax = self.state["eta"], self.state["mu"], self.state["ax"]
        lr, lambd = self.lr, self.h["lambd"]
        first = self.t == 1
        if first.any():
            # torch creates eta = lr with the state, i.e. at the first step
            np.copyto(eta, lr, where=first)
        grad = self._with_weight_decay(params, grads)
        work = self._scratch["work"]
        params *= 1 - lambd * eta
        np.multiply(grad, eta, out=work)
        params -= work
        plain = mu == 1
        if plain.all():
            np.copyto(ax, params)
        else:
            np.subtract(params, ax, out=work)
            work *= mu
            ax += work
            np.copyto(ax, params, where=plain)
        eta[:] = lr / (1 + lambd * lr * self.t) ** self.h["alpha"]
        mu[:] = 1 / np.maximum(1.0, self.t - self.h["t0"])

    def effective_step(self) -> np.ndarray:
        """eta, the step size the next update will use."""
        return self.state["eta"].copy()
