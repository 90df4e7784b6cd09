"""Adafactor, exactly as keras.optimizers.Adafactor (factored per weight matrix)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Tensor, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KerasOptimizer,
    keras_base_params,
    per_row,
    tensor_rms,
    tensor_view,
)


class KerasAdafactor(KerasOptimizer):
    """Adafactor as Keras 3 runs it: a factored second moment per weight matrix, steps
    relative to each tensor's RMS.

    Update rule (after ``w *= 1 - lr * weight_decay``), for each tensor W with gradient G
    (sums and means are over that tensor only; R, C, V start at 0)::

        rho   = min(lr, 1 / sqrt(t)) ;  alpha = max(eps2, rms(W)) * rho
        b2    = 1 - t^beta2_decay ;     S = G^2 + eps1
        matrix (fan_in, fan_out): R = b2 R + (1 - b2) mean(S, over fan_out)
                                  C = b2 C + (1 - b2) mean(S, over fan_in)
                                  V = (R / mean(R)) C^T    (outer product)
        vector:                   V = b2 V + (1 - b2) S
        U = G / sqrt(V) ;  W -= alpha * U / max(1, rms(U) / clip_threshold)

    ``relative_step`` is accepted for Keras' spelling; in Keras 3 it only repeats the
    min(lr, 1 / sqrt(t)) that rho already takes, so it changes nothing.

    Reference: Shazeer & Stern, "Adafactor: adaptive learning rates with sublinear memory
    cost" (ICML 2018); https://keras.io/api/optimizers/adafactor/
    """

    name = "adafactor"
    keras_class = "keras.optimizers.Adafactor"
    summary = "Adafactor: factored 2nd moment per matrix, steps ~ rms(W) (keras Adafactor)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        HParam(
            "beta2_decay",
            -0.8,
            "b2 = 1 - t^beta2_decay, the decay of the second moment",
            high=0.0,
            aliases=("beta_2_decay",),
        ),
        HParam("eps1", 1e-30, "added to g^2", low=0.0, low_open=True, aliases=("epsilon_1",)),
        HParam("eps2", 1e-3, "floor of rms(W) in the step size", low=0.0,
               aliases=("epsilon_2",)),
        HParam("clip_threshold", 1.0, "the update's RMS is clipped to this", low=0.0,
               low_open=True),
        HParam("relative_step", True, "lr = min(lr, 1/sqrt(t)) (Keras: as rho already is)",
               "bool"),
        *keras_base_params(),
    )  # fmt: skip

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "velocity")
        for tensor in self._matrices():
            fan_in, fan_out = tensor.shape
            self.state[f"row {tensor.name}"] = np.zeros((self.rows, fan_in), self.dtype)
            self.state[f"column {tensor.name}"] = np.zeros((self.rows, fan_out), self.dtype)

    def _matrices(self) -> list[Tensor]:
        return [tensor for tensor in self.tensors if tensor.is_matrix]

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        t = np.maximum(self.t, 1)
        rho = np.minimum(lr, 1 / np.sqrt(t))
        decay = 1 - t ** self.h["beta2_decay"]
        keep = 1 - decay
        square = self._buffer("square")
        np.multiply(grads, grads, out=square)
        square += self.h["eps1"]
        velocity = self.state["velocity"]
        for tensor in self.tensors:
            weights = tensor_view(params, tensor)
            alpha = np.maximum(per_row(self.h["eps2"], weights), tensor_rms(weights))
            alpha *= per_row(rho, weights)
            squares = tensor_view(square, tensor)
            if tensor.is_matrix:
                row, column = self.state[f"row {tensor.name}"], self.state[f"column {tensor.name}"]
                row[...] = decay * row + keep * np.mean(squares, axis=-1)
                column[...] = decay * column + keep * np.mean(squares, axis=-2)
                second = (row / np.mean(row, axis=-1, keepdims=True))[:, :, None] * column[
                    :, None, :
                ]
                velocity[:, tensor.columns] = second.reshape(self.rows, -1)
            else:
                part = velocity[:, tensor.columns]
                part[...] = decay * part + keep * squares
                second = part
            unclipped = tensor_view(grads, tensor) / np.sqrt(second)
            threshold = per_row(self.h["clip_threshold"], weights)
            scale = np.maximum(1.0, tensor_rms(unclipped) / threshold)
            step = alpha * (unclipped / scale)
            params[:, tensor.columns] -= step.reshape(self.rows, -1)
