"""Muon, exactly as keras.optimizers.Muon (Newton-Schulz on each weight matrix, AdamW on
each bias)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Tensor, beta_param, eps_param, lr_param
from tui_optim.engine.optimizers.keras.base import (
    KERAS_EPSILON,
    KerasOptimizer,
    keras_base_params,
)

#: Keras adds this to the Frobenius norm before the Newton-Schulz iterations.
NORM_EPSILON = 1e-7


def newton_schulz(
    matrices: np.ndarray, steps: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Keras' quintic Newton-Schulz iteration on a stack (r, n, m): approximately U V^T of
    each matrix's SVD, on the wide orientation (transposed when n > m). ``steps`` and the
    coefficients are per row, (r, 1); a row stops after its own number of steps."""
    tall = matrices.shape[-2] > matrices.shape[-1]
    x = matrices.swapaxes(-1, -2) if tall else matrices
    norm = np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True))
    x = x / (norm + NORM_EPSILON)
    a, b, c, steps = (column[:, :, None] for column in (a, b, c, steps))
    for step in range(int(steps.max())):
        gram = x @ x.swapaxes(-1, -2)
        advanced = a * x + (b * gram + (c * gram) @ gram) @ x
        x = advanced if step < steps.min() else np.where(step < steps, advanced, x)
    return x.swapaxes(-1, -2) if tall else x


class KerasMuon(KerasOptimizer):
    """Muon as Keras 3 runs it: orthogonalised momentum on every weight matrix (including
    the output layer's), AdamW on every bias.

    Update rule; each weight matrix W (fan_in, fan_out) first decays by
    ``W *= 1 - lr * weight_decay``, each bias b by ``b *= 1 - lr * adam_weight_decay``::

        W:  M = momentum * M + G
            D = G + momentum * M  if nesterov  else  M
            O = NewtonSchulz5(D)     (Frobenius-normalised; ns_steps quintic iterations
                                      with muon_a, muon_b, muon_c, on the wide orientation)
            W -= lr * O * sqrt(max(fan_in, fan_out)) * rms_rate   (the root in float32,
                                                                   as Keras takes it)
        b:  Keras' Adam step (adam_beta1, adam_beta2, eps) with lr * adam_lr_ratio

    ``rms_rate = 0`` turns the shape factor off (Keras' ``rms_rate=None``). Keras'
    ``exclude_layers``/``exclude_embeddings`` select nothing in these networks.

    Reference: Jordan et al., "Muon: an optimizer for hidden layers in neural networks"
    (2024, github.com/KellerJordan/Muon); Liu et al., "Muon is scalable for LLM training",
    arXiv:2502.16982 (the rms_rate factor); https://keras.io/api/optimizers/muon/
    """

    name = "muon"
    keras_class = "keras.optimizers.Muon"
    summary = "Muon: Newton-Schulz orthogonalised momentum per matrix, AdamW on biases (Keras)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        beta_param("adam_beta1", 0.9, "Adam's beta_1 for the biases"),
        beta_param("adam_beta2", 0.999, "Adam's beta_2 for the biases"),
        HParam("adam_weight_decay", 0.004, "decoupled decay of the biases", low=0.0),
        eps_param(KERAS_EPSILON, "Adam's epsilon for the biases"),
        *keras_base_params(0.004),
        HParam("muon_a", 3.4445, "Newton-Schulz coefficient a"),
        HParam("muon_b", -4.7750, "Newton-Schulz coefficient b"),
        HParam("muon_c", 2.0315, "Newton-Schulz coefficient c"),
        HParam("adam_lr_ratio", 1.0, "the biases' lr is lr * adam_lr_ratio", low=0.0),
        HParam("momentum", 0.95, "momentum of the matrices' buffer", low=0.0, high=1.0),
        HParam("ns_steps", 5, "Newton-Schulz iterations", "int", low=1),
        HParam("nesterov", True, "Nesterov-style momentum for the matrices", "bool"),
        HParam("rms_rate", 0.2, "update scale per sqrt(max dimension); 0 = off", low=0.0),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "momentum")
        self._new_state(params, "velocity")

    def decay(self, params: np.ndarray, lr: np.ndarray) -> None:
        """weight_decay on the matrices, adam_weight_decay on the biases."""
        for tensor in self.tensors:
            name = "weight_decay" if tensor.is_matrix else "adam_weight_decay"
            if self._uses(name):
                weights = params[:, tensor.columns]
                weights -= weights * self.h[name] * lr

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        for tensor in self.tensors:
            if tensor.is_matrix:
                self._muon_step(params, grads, lr, tensor)
            else:
                self._adam_step(params, grads, lr * self.h["adam_lr_ratio"], tensor)

    def _muon_step(
        self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray, tensor: Tensor
    ) -> None:
        momentum = self.h["momentum"]
        buffer = self.state["momentum"][:, tensor.columns]
        grad = grads[:, tensor.columns]
        buffer += grad + buffer * (momentum - 1)
        direction = grad + momentum * buffer if self.flags["nesterov"] else buffer
        orthogonal = newton_schulz(
            direction.reshape(self.rows, *tensor.shape),
            self.h["ns_steps"],
            self.h["muon_a"],
            self.h["muon_b"],
            self.h["muon_c"],
        )
        step = lr * orthogonal.reshape(self.rows, -1)
        rate = self.h["rms_rate"]
        # Keras takes this root of an int32 tensor, so it is the float32 value of the root.
        shape_factor = float(np.sqrt(np.float32(max(tensor.shape))))
        scaled = step * shape_factor * rate
        params[:, tensor.columns] -= np.where(rate > 0, scaled, step)

    def _adam_step(
        self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray, tensor: Tensor
    ) -> None:
        t = np.maximum(self.t, 1)
        beta1, beta2 = self.h["adam_beta1"], self.h["adam_beta2"]
        alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        first = self.state["momentum"][:, tensor.columns]
        second = self.state["velocity"][:, tensor.columns]
        grad = grads[:, tensor.columns]
        first += (grad - first) * (1 - beta1)
        second += (grad * grad - second) * (1 - beta2)
        params[:, tensor.columns] -= (first * alpha) / (np.sqrt(second) + self.h["eps"])
