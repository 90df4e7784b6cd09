"""What every Keras-flavor optimizer shares.

Keras 3's base optimizer applies ``weight_decay`` itself, before the family's rule and to
every variable: ``w *= 1 - lr * weight_decay`` (decoupled, as AdamW; the torch backend's
``_apply_weight_decay``). Its adaptive rules default to ``epsilon = 1e-7``. The rules that
act per tensor (Lamb, Adafactor, Muon) read :attr:`Optimizer.tensors`, whose weight matrices
are in Keras' own Dense kernel layout (fan_in, fan_out).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, Tensor

#: Keras' default epsilon (``keras.config.epsilon()``), where torch mostly uses 1e-8.
KERAS_EPSILON = 1e-7


def keras_weight_decay_param(default: float = 0.0) -> HParam:
    """Keras' base-optimizer ``weight_decay`` (None there is 0 here)."""
    return HParam(
        "weight_decay",
        default,
        "decoupled decay before the rule: w *= 1 - lr * weight_decay (Keras' base optimizer)",
        low=0.0,
    )


class KerasOptimizer(Optimizer):
    """A Keras 3 optimizer: the base class's weight decay, then :meth:`update`.

    Subclasses set ``keras_class`` (the Keras call reproduced, for listings and README) and
    implement :meth:`update`, which sees the step count ``self.t`` already advanced.
    """

    flavor: ClassVar[str] = "keras"
    keras_class: ClassVar[str]

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        self._decay_weights(params, lr)
        self.update(params, grads, lr)

    def update(self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray) -> None:
        """The family's rule, after the weight decay; ``lr`` is this step's (r, 1) rate."""
        raise NotImplementedError


def tensor_view(array: np.ndarray, tensor: Tensor) -> np.ndarray:
    """``array[:, tensor.columns]`` as ``(r, *tensor.shape)`` (a view of ``array``)."""
    return array[:, tensor.columns].reshape(array.shape[0], *tensor.shape)


def per_row(column: np.ndarray, like: np.ndarray) -> np.ndarray:
    """An (r, 1) per-row value shaped to broadcast against ``like`` (r, ...)."""
    return column.reshape(-1, *(1,) * (like.ndim - 1))


def tensor_rms(array: np.ndarray) -> np.ndarray:
    """Root mean square over every axis but the row axis, kept as (r, 1[, 1])."""
    axes = tuple(range(1, array.ndim))
    return np.sqrt(np.mean(np.square(array), axis=axes, keepdims=True))


def tensor_norm(array: np.ndarray) -> np.ndarray:
    """Euclidean (Frobenius) norm over every axis but the row axis, kept as (r, 1[, 1])."""
    axes = tuple(range(1, array.ndim))
    return np.sqrt(np.sum(np.square(array), axis=axes, keepdims=True))
