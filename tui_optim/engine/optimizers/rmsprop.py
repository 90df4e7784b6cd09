"""RMSprop, exactly as torch.optim.RMSprop (optionally centred, with momentum)."""

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


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running RMS of recent gradients.

    Update rule (g = gradient + weight_decay * w; averages and buffer start at 0)::

        s = alpha * s + (1 - alpha) * g^2
        a = alpha * a + (1 - alpha) * g               (centered only)
        d = sqrt(s - a^2) + eps  if centered  else  sqrt(s) + eps
        b = momentum * b + g / d
        w -= lr * b                                    (w -= lr * g / d when momentum is 0)

    This is also the course's "AdaDelta" (course parts 2 and 5):
    ``E[g^2] = gamma*E[g^2] + (1-gamma)*g^2 ; w -= lr/sqrt(E[g^2]+eps) * g`` is RMSprop
    with alpha = gamma (eps inside vs outside the root is the only difference). Hinton's
    lecture uses alpha 0.9, lr 1e-3. Keras calls alpha ``rho`` (accepted here).

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6e; Graves,
    arXiv:1308.0850 (centered variant);
    https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html
    """

    name = "rmsprop"
    summary = "RMSprop: g / sqrt(running mean of g^2); also the course's 'AdaDelta' formula"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam(
            "alpha",
            0.99,
            "decay of the running mean of g^2 (Keras: rho)",
            low=0.0,
            high=1.0,
            aliases=("rho",),
        ),
        eps_param(1e-8),
        weight_decay_param(),
        HParam("momentum", 0.0, "momentum factor", low=0.0),
        HParam("centered", False, "divide by the centred variance s - a^2", "bool"),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "square_avg")
        self._new_state(params, "momentum_buffer")
        if self.flags["centered"]:
            self._new_state(params, "grad_avg")

    def _denominator(self, out: np.ndarray) -> np.ndarray:
        square_avg = self.state["square_avg"]
        if self.flags["centered"]:
            grad_avg = self.state["grad_avg"]
            np.multiply(grad_avg, grad_avg, out=out)
            np.subtract(square_avg, out, out=out)
            np.sqrt(out, out=out)
        else:
            np.sqrt(square_avg, out=out)
        out += self.h["eps"]
        return out

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._with_weight_decay(params, grads)
        alpha = self.h["alpha"]
        square_avg = self.state["square_avg"]
        avg, work = self._buffer("avg"), self._buffer("work")
        square_avg *= alpha
        np.multiply(grad, self._complement("alpha"), out=work)
        work *= grad
        square_avg += work
        if self.flags["centered"]:
            self._moving_average(self.state["grad_avg"], grad, "alpha", work)
        self._denominator(avg)
        momentum = self.h["momentum"]
        if self._uses("momentum"):
            buffer = self.state["momentum_buffer"]
            buffer *= momentum
            np.divide(grad, avg, out=work)
            buffer += work
            np.multiply(buffer, -self.lr, out=work)
        else:
            np.multiply(grad, -self.lr, out=work)
            work /= avg
        params += work

    def effective_step(self) -> np.ndarray:
        return self.lr / self._denominator(np.empty_like(self.state["square_avg"]))
