"""NAdam, exactly as torch.optim.NAdam (with its momentum_decay schedule)."""

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
    weight_decay_param,
)


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and Dozat's momentum warm-up schedule.

    Update rule (g = gradient + weight_decay * w, or decoupled ``w *= 1 - lr*wd`` first;
    m, v start at 0, prod starts at 1)::

        mu_t  = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        prod *= mu_t
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        w -= lr * (1 - mu_t) / (1 - prod) * g / d
        w -= lr * mu_{t+1} / (1 - prod * mu_{t+1}) * m / d

    Keras 3's Nadam raises 0.96 to t itself, without momentum_decay (``nadam``, keras flavor).

    Reference: Dozat, "Incorporating Nesterov momentum into Adam" (ICLR 2016 workshop);
    https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html
    """

    name = "nadam"
    summary = "NAdam: Adam with Nesterov momentum and momentum_decay warm-up (torch)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(2e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(1e-8),
        weight_decay_param(),
        HParam("momentum_decay", 4e-3, "speed of the momentum warm-up", low=0.0),
        HParam(
            "decoupled_weight_decay", False, "decay weights directly (as AdamW) - NAdamW", "bool"
        ),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "exp_avg")
        self._new_state(params, "exp_avg_sq")
        self.state["mu_product"] = np.ones((self.rows, 1), dtype=self.dtype)

    def _mu(self, t: np.ndarray) -> np.ndarray:
        return self.h["beta1"] * (1.0 - 0.5 * (0.96 ** (t * self.h["momentum_decay"])))

    def _denominator(self, out: np.ndarray) -> np.ndarray:
        correction2 = 1 - self.h["beta2"] ** np.maximum(self.t, 1)
        np.divide(self.state["exp_avg_sq"], correction2, out=out)
        np.sqrt(out, out=out)
        out += self.h["eps"]
        return out

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        grad = self._gradient_after_decay(params, grads, lr, self.flags["decoupled_weight_decay"])
        mu_product = self.state["mu_product"]
        work, denom = self._buffer("work"), self._buffer("denom")
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        mu_product *= mu
        self._update_moments(grad, work)
        self._denominator(denom)
        np.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product), out=work)
        work /= denom
        params += work
        np.multiply(self.state["exp_avg"], (-lr * mu_next) / (1.0 - mu_product * mu_next), out=work)
        work /= denom
        params += work

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(v_hat) + eps), the per-weight scale of NAdam's step."""
        return self.lr / self._denominator(np.empty_like(self.state["exp_avg_sq"]))
