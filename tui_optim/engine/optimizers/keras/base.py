"""What every Keras-flavor optimizer shares.

Keras 3's base optimizer clips the gradients (``clipnorm`` per tensor, ``global_clipnorm``
over all of them, or ``clipvalue`` per element; at most one), then applies ``weight_decay``
itself, before the family's rule and to every variable: ``w *= 1 - lr * weight_decay``
(decoupled, as AdamW; the torch backend's ``_apply_weight_decay``). Its adaptive rules
default to ``epsilon = 1e-7``. The rules that act per tensor (Lamb, Adafactor, Muon, and
``clipnorm``) read :attr:`Optimizer.tensors`, whose weight matrices are in Keras' own Dense
kernel layout (fan_in, fan_out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, HyperparameterError, Optimizer, Tensor

#: Keras' default epsilon (``keras.config.epsilon()``), where torch mostly uses 1e-8.
KERAS_EPSILON = 1e-7


#: Keras' gradient clipping, in the order its base optimizer tries them.
CLIPPING = ("clipnorm", "global_clipnorm", "clipvalue")


def keras_base_params(weight_decay: float = 0.0) -> tuple[HParam, ...]:
    """The base optimizer's ``weight_decay`` and clipping (Keras' None is 0 here: off)."""
    return (
        HParam(
            "weight_decay",
            weight_decay,
            "decoupled decay before the rule: w *= 1 - lr * weight_decay (Keras' base)",
            low=0.0,
        ),
        HParam("clipnorm", 0.0, "clip each tensor's gradient to this norm (0: off)", low=0.0),
        HParam("global_clipnorm", 0.0, "clip the whole gradient to this norm (0: off)", low=0.0),
        HParam("clipvalue", 0.0, "clip each gradient element to +-this (0: off)", low=0.0),
    )


class KerasOptimizer(Optimizer):
    """A Keras 3 optimizer: the base class's gradient clipping and weight decay, then
    :meth:`update`.

    Subclasses set ``keras_class`` (the Keras call reproduced, for listings and README) and
    implement :meth:`update`, which sees the step count ``self.t`` already advanced.
    """

    flavor: ClassVar[str] = "keras"
    keras_class: ClassVar[str]

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        chosen = [name for name in CLIPPING if values[name] > 0]
        if len(chosen) > 1:
            raise HyperparameterError(
                f"{cls.name}: set at most one of clipnorm, global_clipnorm and clipvalue, "
                f"got {', '.join(f'{name}={values[name]!r}' for name in chosen)}"
            )

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        grads = self._clipped(grads)
        self.decay(params, lr)
        self.update(params, grads, lr)

    def decay(self, params: np.ndarray, lr: np.ndarray) -> None:
        """The base optimizer's weight decay, before the rule (Muon decays per tensor)."""
        self._decay_weights(params, lr)

    def _clipped(self, grads: np.ndarray) -> np.ndarray:
        """The gradient after Keras' clipping; ``grads`` itself when no row clips (never
        written to). Rows may clip differently: each row uses the one it sets, if any."""
        if not any(self._uses(name) for name in CLIPPING):
            return grads
        clipped = self._buffer("clipped_grad", grads.shape)
        clipped[...] = grads
        by_norm, by_global, by_value = (self.h[name] for name in CLIPPING)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self._uses("clipnorm"):
                for tensor in self.tensors:
                    part = clipped[:, tensor.columns]
                    norm = np.sqrt(np.sum(np.square(part), axis=1, keepdims=True))
                    part[...] = np.where(
                        by_norm > 0, part * by_norm / np.maximum(norm, by_norm), part
                    )
            if self._uses("global_clipnorm"):
                total = sum(
                    np.sum(np.square(grads[:, tensor.columns]), axis=1, keepdims=True)
                    for tensor in self.tensors
                )
                scale = by_global * np.minimum(1.0 / np.sqrt(total), 1.0 / by_global)
                np.multiply(clipped, np.where(by_global > 0, scale, 1.0), out=clipped)
            if self._uses("clipvalue"):
                limited = np.clip(clipped, -by_value, by_value)
                clipped[...] = np.where(by_value > 0, limited, clipped)
        return clipped

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
