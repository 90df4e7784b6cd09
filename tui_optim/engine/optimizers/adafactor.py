"""Adafactor, exactly as torch.optim.Adafactor, acting on each weight matrix and bias."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, Tensor, lerp_, lr_param


class Adafactor(Optimizer):
    """Adafactor: a factored (row x column) second moment, relative step sizes, update clipping.

    Update rule, per tensor W (a weight matrix in nn.Linear's (out, in) orientation, or a
    bias vector); t counts from 1, the factors R, C (or v for a vector) start at 0::

        beta2_t = 1 - t^beta2_decay ;  rho_t = min(lr, 1 / sqrt(t))
        alpha = max(eps2, RMS(W)) * rho_t                 (RMS before the decay below)
        W *= 1 - lr * weight_decay
        matrix: R = lerp(R, mean_in(g^2), t^beta2_decay)  (one per output row)
                C = lerp(C, mean_out(g^2), t^beta2_decay) (one per input column)
                V = R C^T / max(mean(R), eps1)
        vector: V = v = lerp(v, g^2, t^beta2_decay)
        U = g / sqrt(max(V, eps1^2))
        W -= alpha / max(1, RMS(U) / d) * U

    eps1 = 0 (torch's None) means the dtype's machine epsilon. torch spells the two epsilons
    as the pair ``eps = (eps1, eps2)``; both spellings are accepted.

    Reference: Shazeer & Stern, "Adafactor: adaptive learning rates with sublinear memory
    cost" (ICML 2018); https://pytorch.org/docs/stable/generated/torch.optim.Adafactor.html
    """

    name = "adafactor"
    summary = "Adafactor: factored second moment, relative steps (torch.optim.Adafactor)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-2),
        HParam("beta2_decay", -0.8, "decay exponent: 1 - beta2_t = t^beta2_decay", high=0.0),
        HParam("eps1", 0.0, "floor of the variance estimate (0: machine epsilon)", low=0.0),
        HParam("eps2", 1e-3, "floor of the weights' RMS in the relative step", low=0.0),
        HParam("d", 1.0, "clipping threshold of the update's RMS", low=1.0),
        HParam("weight_decay", 0.0, "decoupled decay: W *= 1 - lr * weight_decay", low=0.0),
    )
    pair_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"eps": ("eps1", "eps2")}

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        for tensor in self.tensors:
            if tensor.is_matrix:
                fan_in, fan_out = tensor.shape
                self.state[f"{tensor.name}.row_var"] = np.zeros((self.rows, fan_out), self.dtype)
                self.state[f"{tensor.name}.col_var"] = np.zeros((self.rows, fan_in), self.dtype)
            else:
                size = tensor.columns.stop - tensor.columns.start
                self.state[f"{tensor.name}.variance"] = np.zeros((self.rows, size), self.dtype)

    def _eps1(self) -> np.ndarray:
        eps1 = self.h["eps1"]
        return np.where(eps1 == 0, np.finfo(self.dtype).eps, eps1)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        t = self.t
        lr = self.lr
        weight = t ** self.h["beta2_decay"]  # 1 - beta2_t, the lerp weight
        rho = np.minimum(lr, 1 / t**0.5)
        eps1 = self._eps1()
        decay = 1 - lr * self.h["weight_decay"]
        for tensor in self.tensors:
            self._step_tensor(tensor, params, grads, weight, rho, eps1, decay)

    def _step_tensor(
        self,
        tensor: Tensor,
        params: np.ndarray,
        grads: np.ndarray,
        weight: np.ndarray,
        rho: np.ndarray,
        eps1: np.ndarray,
        decay: np.ndarray,
    ) -> None:
        w = params[:, tensor.columns]
        g = grads[:, tensor.columns]
        size = w.shape[1]
        rms = np.sqrt(np.einsum("ij,ij->i", w, w))[:, None] / size**0.5
        alpha = np.maximum(self.h["eps2"], rms) * rho
        if self._uses("weight_decay"):
            w *= decay
        if tensor.is_matrix:
            fan_in, fan_out = tensor.shape
            g3 = g.reshape(-1, fan_in, fan_out)
            squares = g3 * g3
            # torch's rows are our columns: W is (out, in) there, (in, out) here
            row_mean = squares.sum(axis=1) / fan_in
            col_mean = squares.sum(axis=2) / fan_out
            row_var = self.state[f"{tensor.name}.row_var"]
            col_var = self.state[f"{tensor.name}.col_var"]
            lerp_(row_var, row_mean, weight, np.empty_like(row_var))
            lerp_(col_var, col_mean, weight, np.empty_like(col_var))
            estimate = col_var[:, :, None] * row_var[:, None, :]
            estimate /= np.maximum(row_var.mean(axis=1), eps1[:, 0])[:, None, None]
            estimate = estimate.reshape(-1, size)
        else:
            variance = self.state[f"{tensor.name}.variance"]
            lerp_(variance, g * g, weight, np.empty_like(variance))
            estimate = variance.copy()
        np.maximum(estimate, eps1 * eps1, out=estimate)
        update = 1 / np.sqrt(estimate)  # torch's rsqrt, then times g
        update *= g
        update_norm = np.sqrt(np.einsum("ij,ij->i", update, update))[:, None]
        denom = np.maximum(1.0, update_norm / (size**0.5 * self.h["d"]))
        update *= alpha / denom
        w -= update  # a view of params
