"""RAdam, exactly as torch.optim.RAdam."""

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


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is switched on only once v's variance is tractable.

    Update rule (g = gradient + weight_decay * w, or decoupled ``w *= 1 - lr*wd`` first)::

        m = beta1 * m + (1 - beta1) * g ;  v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            w -= lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
        else:
            w -= lr * m_hat                       (SGD with momentum for the first steps)

    Reference: Liu et al., "On the variance of the adaptive learning rate and beyond"
    (ICLR 2020); https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html
    """

    name = "radam"
    summary = "RAdam: Adam with a variance-rectified warm-up of the adaptive step (torch)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(1e-8),
        weight_decay_param(),
        HParam(
            "decoupled_weight_decay", False, "decay weights directly (as AdamW) - RAdamW", "bool"
        ),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "exp_avg")
        self._new_state(params, "exp_avg_sq")

    def _rectification(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rectified rows (r, 1) bool, rectifier r (1 where not rectified), 1 - beta2^t)."""
        beta2 = self.h["beta2"]
        t = np.maximum(self.t, 1)
        correction2 = 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / correction2
        rectified = rho_t > 5.0
        safe_rho = np.where(rectified, rho_t, 6.0)
        rect = np.sqrt(
            (safe_rho - 4) * (safe_rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe_rho)
        )
        return rectified, np.where(rectified, rect, 1.0).astype(self.dtype), correction2

    def _adaptive(self, correction2: np.ndarray, rectified: np.ndarray, out: np.ndarray) -> None:
        np.sqrt(self.state["exp_avg_sq"], out=out)
        out += self.h["eps"]
        np.divide(np.sqrt(correction2), out, out=out)
        np.copyto(out, 1.0, where=~rectified)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        grad = self._gradient_after_decay(params, grads, lr, self.flags["decoupled_weight_decay"])
        work, adaptive = self._buffer("work"), self._buffer("adaptive")
        self._update_moments(grad, work)
        rectified, rect, correction2 = self._rectification()
        # torch's order: ((m_hat * lr) * adaptive) * rect, with adaptive = rect = 1 early on.
        np.divide(self.state["exp_avg"], 1 - self.h["beta1"] ** self.t, out=work)
        work *= lr
        self._adaptive(correction2, rectified, adaptive)
        work *= adaptive
        work *= rect
        params -= work

    def effective_step(self) -> np.ndarray:
        """lr * r * sqrt(1 - beta2^t) / (sqrt(v) + eps), or lr before rectification."""
        rectified, rect, correction2 = self._rectification()
        adaptive = np.empty_like(self.state["exp_avg_sq"])
        self._adaptive(correction2, rectified, adaptive)
        return self.lr * rect * adaptive
