"""The course's "textbook Adam": bias correction without the step exponent."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    BETAS,
    HParam,
    Optimizer,
    beta_param,
    eps_param,
    lr_param,
)


class TextbookAdam(Optimizer):
    """Adam as the course notes write it (course parts 1 and 5, docs/COURSE.md), not as published.

    Update rule (m, v start at 0)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1)          <- no ^t: published Adam divides by 1 - beta1^t
        v_hat = v / (1 - beta2)
        w -= lr * m_hat / (eps + sqrt(v_hat))

    Step 1 equals Adam's. For a constant gradient both tend to a step of lr * sign(g), but
    in between textbook Adam steps further: with the defaults its step is 1.35x at t = 2,
    2.13x at t = 13, 1.26x at t = 100 and 1.003x at t = 500 (ratio
    ``(1 - b1^t)/(1 - b1) / sqrt((1 - b2^t)/(1 - b2))``). Race it next to ``adam`` to see
    the difference. Defaults are the course's example run (b2 0.99, not Adam's 0.999).

    Reference: the course notes (part 1, docs/COURSE.md); compare Kingma & Ba, arXiv:1412.6980.
    """

    name = "textbook_adam"
    summary = "the course's Adam: m/(1-b1), v/(1-b2) without the step exponent t"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        beta_param("beta1", 0.9, "decay of the moment m"),
        beta_param("beta2", 0.99, "decay of the velocity v"),
        eps_param(1e-8, "added to sqrt(v_hat), outside the square root"),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "moment")
        self._new_state(params, "velocity")

    def _denominator(self, out: np.ndarray) -> np.ndarray:
        np.divide(self.state["velocity"], 1 - self.h["beta2"], out=out)
        np.sqrt(out, out=out)
        out += self.h["eps"]
        return out

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        beta1, beta2 = self.h["beta1"], self.h["beta2"]
        moment, velocity = self.state["moment"], self.state["velocity"]
        work, denom = self._buffer("work"), self._buffer("denom")
        moment *= beta1
        np.multiply(grads, self._complement("beta1"), out=work)
        moment += work
        velocity *= beta2
        np.multiply(grads, self._complement("beta2"), out=work)
        work *= grads
        velocity += work
        self._denominator(denom)
        np.divide(moment, 1 - beta1, out=work)
        work *= self.lr
        work /= denom
        params -= work

    def effective_step(self) -> np.ndarray:
        """lr / (eps + sqrt(v_hat)), what multiplies m_hat."""
        return self.lr / self._denominator(np.empty_like(self.state["velocity"]))
