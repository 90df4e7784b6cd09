"""Adam, AMSGrad and AdamW, exactly as torch.optim.Adam / AdamW."""

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


class Adam(Optimizer):
    """Adam: momentum on the gradient, scaled per weight by the RMS of recent gradients.

    Update rule (g = gradient + weight_decay * w; m, v start at 0; t counts from 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                        (amsgrad only; used instead of v)
        m_hat = m / (1 - beta1^t) ;  v_hat = v / (1 - beta2^t)
        w -= lr * m_hat / (sqrt(v_hat) + eps)

    This is Adam as published, with the step exponent t in the bias correction; the
    course's variant without it is ``textbook_adam``. Keras names beta_1, beta_2, epsilon
    and learning_rate are accepted.

    Reference: Kingma & Ba, "Adam: A method for stochastic optimization", arXiv:1412.6980;
    Reddi et al., "On the convergence of Adam and beyond" (ICLR 2018) for amsgrad;
    https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
    """

    name = "adam"
    summary = "Adam: bias-corrected momentum / RMS of gradients (torch.optim.Adam)"
    pair_aliases = BETAS
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("beta1", 0.9, "decay of the gradient mean m"),
        beta_param("beta2", 0.999, "decay of the squared-gradient mean v"),
        eps_param(1e-8),
        weight_decay_param(),
        HParam("amsgrad", False, "use the running maximum of v (AMSGrad)", "bool"),
    )
    #: AdamW decays the weights directly instead of adding weight_decay * w to g.
    decoupled: ClassVar[bool] = False

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "exp_avg")
        self._new_state(params, "exp_avg_sq")
        if self.flags["amsgrad"]:
            self._new_state(params, "max_exp_avg_sq")

    def _second_moment(self) -> np.ndarray:
        return self.state["max_exp_avg_sq" if self.flags["amsgrad"] else "exp_avg_sq"]

    def _corrections(self) -> tuple[np.ndarray, np.ndarray]:
        """Step size lr / (1 - beta1^t) and sqrt(1 - beta2^t), per row."""
        t = np.maximum(self.t, 1)
        step_size = self.lr / (1 - self.h["beta1"] ** t)
        return step_size, np.sqrt(1 - self.h["beta2"] ** t)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        grad = self._gradient_after_decay(params, grads, self.lr, self.decoupled)
        work, denom = self._buffer("work"), self._buffer("denom")
        self._update_moments(grad, work)
        if self.flags["amsgrad"]:
            most = self.state["max_exp_avg_sq"]
            np.maximum(most, self.state["exp_avg_sq"], out=most)
        step_size, correction2_sqrt = self._corrections()
        np.sqrt(self._second_moment(), out=denom)
        denom /= correction2_sqrt
        denom += self.h["eps"]
        np.multiply(self.state["exp_avg"], -step_size, out=work)
        work /= denom
        params += work

    def effective_step(self) -> np.ndarray:
        """lr_t / (sqrt(v_hat) + eps): what multiplies the bias-corrected momentum m_hat."""
        _, correction2_sqrt = self._corrections()
        return self.lr / (np.sqrt(self._second_moment()) / correction2_sqrt + self.h["eps"])


class AMSGrad(Adam):
    """AMSGrad: Adam with ``amsgrad=True`` (torch.optim.Adam(amsgrad=True)).

    Raced as its own optimizer, as in the course's optimizer zoo. Update rule: see ``adam``;
    the denominator uses the running maximum ``v_max = max(v_max, v)`` so the effective step
    never grows.

    Reference: Reddi, Kale & Kumar, "On the convergence of Adam and beyond" (ICLR 2018).
    """

    name = "amsgrad"
    summary = "AMSGrad: Adam dividing by the running maximum of v (Adam(amsgrad=True))"
    hparams: ClassVar[tuple[HParam, ...]] = (
        *Adam.hparams[:-1],
        HParam("amsgrad", True, "use the running maximum of v (AMSGrad)", "bool"),
    )


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, exactly as torch.optim.AdamW.

    Update rule: first ``w *= 1 - lr * weight_decay``, then the ``adam`` step with the raw
    gradient (weight decay is not added to g, so it is not rescaled by sqrt(v_hat)).

    Reference: Loshchilov & Hutter, "Decoupled weight decay regularization" (ICLR 2019);
    https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
    """

    name = "adamw"
    summary = "AdamW: Adam with decoupled weight decay w *= 1 - lr*wd (torch.optim.AdamW)"
    decoupled = True
    hparams: ClassVar[tuple[HParam, ...]] = (
        *Adam.hparams[:4],
        weight_decay_param(0.01, decoupled=True),
        Adam.hparams[5],
    )
