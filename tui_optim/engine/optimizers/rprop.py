"""Rprop, exactly as torch.optim.Rprop (the iRprop- variant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, HyperparameterError, Optimizer, lr_param


class Rprop(Optimizer):
    """Resilient backpropagation: per-weight steps from gradient signs only.

    Update rule (step sizes start at lr; ``g_prev`` starts at 0)::

        if g * g_prev > 0:  step = min(step * eta_plus,  step_max)
        if g * g_prev < 0:  step = max(step * eta_minus, step_min);  g = 0  (skip this weight)
        w -= sign(g) * step
        g_prev = g

    Only signs matter, so mini-batch noise flips them and shrinks every step: Rprop is a
    full-batch method (course part 5). lr only sets the initial step size; a learning-rate
    schedule has no effect after step 1.

    Reference: Riedmiller & Braun, "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm" (1993); Igel & Hüsken (2000) for iRprop-;
    https://pytorch.org/docs/stable/generated/torch.optim.Rprop.html
    """

    name = "rprop"
    summary = "Rprop: sign-based per-weight steps (x1.2 / x0.5); full batch only (torch)"
    full_batch_only = True
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.01),
        HParam(
            "eta_minus",
            0.5,
            "step factor when the gradient sign flips",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        ),
        HParam("eta_plus", 1.2, "step factor while the sign repeats", low=1.0, low_open=True),
        HParam("step_min", 1e-6, "smallest step size", low=0.0),
        HParam("step_max", 50.0, "largest step size", low=0.0, low_open=True),
    )
    pair_aliases: ClassVar[Mapping[str, tuple[str, str]]] = {
        "etas": ("eta_minus", "eta_plus"),
        "step_sizes": ("step_min", "step_max"),
    }

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        if values["step_min"] > values["step_max"]:
            raise HyperparameterError(
                f"rprop.step_min must be <= step_max, got "
                f"step_min={values['step_min']!r} > step_max={values['step_max']!r}"
            )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "prev")
        self._new_state(params, "step_size", self.lr)
        self._buffer("product", params.shape)
        self._buffer("factor", params.shape)
        self._scratch["grew"] = np.empty(params.shape, dtype=bool)
        self._scratch["flipped"] = np.empty(params.shape, dtype=bool)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        prev, step_size = self.state["prev"], self.state["step_size"]
        product, factor = self._scratch["product"], self._scratch["factor"]
        grew, flipped = self._scratch["grew"], self._scratch["flipped"]
        first = self.t == 1
        if first.any():
            # torch sets the step sizes to lr when the state is created, i.e. at step 1.
            np.copyto(step_size, self.lr, where=first)
        np.multiply(grads, prev, out=product)
        np.greater(product, 0, out=grew)
        np.less(product, 0, out=flipped)
        factor.fill(1.0)
        np.copyto(factor, self.h["eta_plus"], where=grew)
        np.copyto(factor, self.h["eta_minus"], where=flipped)
        step_size *= factor
        np.clip(step_size, self.h["step_min"], self.h["step_max"], out=step_size)
        np.copyto(prev, grads)
        np.copyto(prev, 0.0, where=flipped)
        np.sign(prev, out=product)
        product *= step_size
        params -= product

    def effective_step(self) -> np.ndarray:
        """The per-weight step size (Rprop moves each weight by this, ignoring |g|)."""
        return self.state["step_size"].copy()
