"""The course's classical momentum, with an optional momentum schedule (Hinton's advice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param, momentum_threshold

GAMMA_PARAMS: tuple[HParam, ...] = (
    HParam(
        "gamma",
        0.9,
        "momentum (the final value when gamma_rise > 0)",
        low=0.0,
        high=1.0,
        high_open=True,
        aliases=("momentum",),
    ),
    HParam(
        "gamma_start",
        0.5,
        "momentum at step 1 while it rises (used only when gamma_rise > 0)",
        low=0.0,
        high=1.0,
        high_open=True,
    ),
    HParam(
        "gamma_rise",
        0,
        "steps over which momentum rises linearly from gamma_start to gamma (0 = constant)",
        "int",
        low=0,
    ),
)


def scheduled_gamma(h: dict[str, np.ndarray], t: np.ndarray) -> np.ndarray:
    """Momentum for 1-based step(s) ``t``, per row (r, 1).

    ``gamma_t = gamma_start + (gamma - gamma_start) * min(1, (t - 1) / gamma_rise)``, or
    ``gamma`` when ``gamma_rise`` is 0: step 1 uses gamma_start, step 1 + gamma_rise and
    later use gamma.
    """
    gamma, start, rise = h["gamma"], h["gamma_start"], h["gamma_rise"]
    if not rise.any():
        return gamma
    progress = np.minimum(1.0, (t - 1) / np.maximum(rise, 1))
    return np.where(rise > 0, start + (gamma - start) * progress, gamma).astype(gamma.dtype)


def gamma_at(optimizer: Optimizer, t: np.ndarray) -> np.ndarray:
    """:func:`scheduled_gamma` for ``optimizer``'s rows; without a rise (the usual case) the
    check is made once per set of hyperparameters, not every step."""
    if not optimizer._uses("gamma_rise"):
        return optimizer.h["gamma"]
    return scheduled_gamma(optimizer.h, t)


def advance_velocity(optimizer: Optimizer, grads: np.ndarray) -> np.ndarray:
    """The course's ``v = gamma_t * v - lr * g`` in place, shared by momentum and nesterov.

    Returns ``lr * g`` (a scratch buffer), which Nesterov's look-ahead form needs again.
    """
    velocity = optimizer.state["velocity"]
    scaled_grad = optimizer._buffer("scaled_grad")
    velocity *= gamma_at(optimizer, optimizer.t)
    np.multiply(grads, optimizer.lr, out=scaled_grad)
    velocity -= scaled_grad
    return scaled_grad


class Momentum(Optimizer):
    """Classical momentum in the course's form, the learning rate inside the velocity.

    Update rule (course parts 2 and 5)::

        v = gamma_t * v - lr * g
        w += v

    On a plateau (constant g) the step tends to ``-lr / (1 - gamma) * g``.
    Momentum schedule (Hinton: start near 0.5, raise towards 0.9-0.99 once the large early
    gradients are gone): with ``gamma_rise = N > 0`` the momentum rises linearly from
    ``gamma_start`` at step 1 to ``gamma`` at step N + 1 and stays there; ``gamma_rise = 0``
    (the default) keeps ``gamma`` constant. Example: gamma_start 0.5, gamma 0.99,
    gamma_rise 200.

    With a constant lr this equals ``sgd`` with momentum (torch keeps lr outside v).

    Reference: Rumelhart, Hinton & Williams (1986); Hinton, Neural Networks for Machine
    Learning, lecture 6c; Sutskever et al. (ICML 2013).
    """

    name = "momentum"
    summary = "course momentum v = gamma*v - lr*g, w += v; gamma may rise from 0.5 towards 0.99"
    hparams: ClassVar[tuple[HParam, ...]] = (lr_param(0.01), *GAMMA_PARAMS)

    @classmethod
    def stability_threshold(cls, hparams: Mapping[str, Any]) -> tuple[float, str] | None:
        # gamma is where a rising momentum ends up: the threshold that matters late on
        return momentum_threshold(float(hparams["lr"]), float(hparams["gamma"]), False)

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "velocity")

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        advance_velocity(self, grads)
        params += self.state["velocity"]
