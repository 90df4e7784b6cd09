"""Optimizers that wrap another racer's optimizer: Lookahead and SAM.

A wrapper racer names its inner optimizer and that optimizer's hyperparameters in the
``inner`` key, a name or a table::

    [[racer]]
    optimizer = "lookahead"
    k = 5
    alpha = 0.5
    inner = { optimizer = "adam", lr = 0.01, betas = [0.9, 0.99] }   # or inner = "adam"

Validated, the hyperparameters are flat: the wrapper's own, ``inner`` (the inner family's
name) and ``inner.<name>`` for each inner hyperparameter that differs from its default
(``{"k": 5, "alpha": 0.5, "inner": "adam", "inner.lr": 0.01, "inner.beta2": 0.99}``), so
they display, export, fork and change live like any racer's (``inner.lr`` is a key; an
inner change regroups the racer like a structural flag). A schedule scales the inner
optimizer's learning rate. Wrappers do not nest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    Closure,
    HParam,
    HyperparameterError,
    Optimizer,
)

INNER = "inner"
PREFIX = "inner."


def _registry_lookup(name: Any, wrapper: str) -> type[Optimizer]:
    from tui_optim.engine.optimizers import get_optimizer

    try:
        return get_optimizer(name)
    except HyperparameterError as error:
        raise HyperparameterError(f"{wrapper}.inner: {error}", INNER) from None


class Wrapper(Optimizer):
    """Base of optimizers that step an inner optimizer (``self.inner``) of the same rows."""

    #: The inner optimizer when the racer names none.
    default_inner: ClassVar[str]

    @classmethod
    def accepted_keys(cls) -> list[str]:
        return sorted([*super().accepted_keys(), INNER])

    @classmethod
    def canonical_name(cls, key: str) -> str | None:
        if key == INNER or key.startswith(PREFIX):
            return key
        return super().canonical_name(key)

    @classmethod
    def spec(cls, name: str) -> HParam:
        """The inner optimizer and its hyperparameters count as structural: changing one
        during a race rebuilds the racer's block (its state carries over)."""
        if name == INNER or name.startswith(PREFIX):
            return HParam(name, False, "the inner optimizer or one of its hyperparameters", "bool")
        return super().spec(name)

    @classmethod
    def _split(
        cls, given: Mapping[str, Any]
    ) -> tuple[dict[str, Any], type[Optimizer], dict[str, Any]]:
        """(own hyperparameters, inner class, inner hyperparameters) from a racer's keys."""
        own = {k: v for k, v in given.items() if k != INNER and not k.startswith(PREFIX)}
        inner_given = {k[len(PREFIX) :]: v for k, v in given.items() if k.startswith(PREFIX)}
        spec = given.get(INNER)
        if spec is None and inner_given:
            raise HyperparameterError(
                f"{cls.name}: give the inner optimizer's hyperparameters with it, e.g. "
                f'inner = {{ optimizer = "adam", lr = 0.01 }}'
            )
        if spec is None:
            spec = cls.default_inner
        if isinstance(spec, Mapping):
            table = dict(spec)
            if "optimizer" not in table:
                raise HyperparameterError(
                    f'{cls.name}.inner needs an optimizer, e.g. {{ optimizer = "adam" }}'
                )
            spec = table.pop("optimizer")
            inner_given = {**table, **inner_given}
        if not isinstance(spec, str):
            raise HyperparameterError(
                f"{cls.name}.inner must be an optimizer name or a table, got {spec!r}"
            )
        inner_cls = _registry_lookup(spec, cls.name)
        if issubclass(inner_cls, Wrapper):
            raise HyperparameterError(
                f"{cls.name}.inner cannot be {inner_cls.name}: wrappers do not nest"
            )
        cls.check_inner(inner_cls)
        return own, inner_cls, inner_given

    @classmethod
    def check_inner(cls, inner_cls: type[Optimizer]) -> None:
        """Refuse inner families this wrapper cannot drive; override where needed."""

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        own, inner_cls, inner_given = cls._split(given)
        values: dict[str, Any] = super().validate(own)
        try:
            inner_values = inner_cls.validate(inner_given)
        except HyperparameterError as error:
            raise HyperparameterError(f"{cls.name}.inner: {error}", INNER) from None
        defaults = inner_cls.defaults()
        values[INNER] = inner_cls.name
        for key, value in inner_values.items():
            if value != defaults[key]:
                values[PREFIX + key] = value
        return values

    @classmethod
    def inner_of(cls, values: Mapping[str, Any]) -> tuple[type[Optimizer], dict[str, Any]]:
        """The inner class and its validated hyperparameters, from validated values."""
        _, inner_cls, inner_given = cls._split(values)
        return inner_cls, inner_cls.validate(inner_given)

    @classmethod
    def block_key(cls, values: Mapping[str, Any]) -> tuple[Any, ...]:
        inner_cls, inner_values = cls.inner_of(values)
        return (*super().block_key(values), inner_cls.name, *inner_cls.block_key(inner_values))

    @classmethod
    def requires_full_batch(cls, values: Mapping[str, Any]) -> bool:
        inner_cls, inner_values = cls.inner_of(values)
        return cls.full_batch_only or inner_cls.requires_full_batch(inner_values)

    def __init__(self, rows: Sequence[Mapping[str, Any]], dtype: np.dtype | type = np.float64):
        super().__init__(rows, dtype)
        inner = [self.inner_of(row) for row in rows]
        names = {inner_cls.name for inner_cls, _ in inner}
        if len(names) != 1:
            raise ValueError(f"rows of one {self.name} block differ in their inner optimizer")
        inner_cls = inner[0][0]
        self.inner: Optimizer = inner_cls([values for _, values in inner], dtype)
        # one schedule factor for both: the race writes it into the wrapper
        self.lr_scale = self.inner.lr_scale
        self.needs_closure = self.needs_closure or self.inner.needs_closure

    @property
    def lr(self) -> np.ndarray:
        return self.inner.lr

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self.inner.tensors = self.tensors
        self.inner.init_state(params)

    def row_state(self, i: int) -> dict[str, Any]:
        saved = super().row_state(i)
        saved[INNER] = self.inner.row_state(i)
        return saved

    def set_row_state(self, i: int, saved: Mapping[str, Any]) -> None:
        super().set_row_state(i, saved)
        if INNER in saved:
            self.inner.set_row_state(i, saved[INNER])

    def set_hparam(self, i: int, name: str, value: Any) -> None:
        if name == INNER or name.startswith(PREFIX):
            raise HyperparameterError(
                f"{self.name}.{name} changes the block's structure: validate the racer's "
                f"hyperparameters with it and rebuild the block (the race does)"
            )
        super().set_hparam(i, name, value)

    def effective_step(self) -> np.ndarray:
        return self.inner.effective_step()


class Lookahead(Wrapper):
    """Lookahead: k steps of the inner optimizer, then pull the weights towards slow ones.

    Update rule (slow weights phi start at the initial weights)::

        w = inner step(w)                       every step
        every k-th step:  phi += alpha * (w - phi) ;  w = phi

    Reference: Zhang, Lucas, Hinton & Ba, "Lookahead optimizer: k steps forward, 1 step
    back" (NeurIPS 2019); the common torch implementation is
    https://pytorch-optimizer.readthedocs.io/en/latest/optimizer.html (Lookahead).
    """

    name = "lookahead"
    summary = "Lookahead: k inner steps, then pull towards slow weights by alpha (wrapper)"
    default_inner = "adam"
    hparams: ClassVar[tuple[HParam, ...]] = (
        HParam("k", 5, "inner steps between synchronisations", "int", low=1),
        HParam("alpha", 0.5, "slow weights' step towards the fast ones", low=0.0, high=1.0),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "slow", params)

    def step(
        self,
        params: np.ndarray,
        grads: np.ndarray,
        closure: Closure | None = None,
        losses: np.ndarray | None = None,
    ) -> None:
        self._count_step()
        if self.inner.needs_closure:
            # A needs_closure inner family: its step takes the closure and losses.
            self.inner.step(params, grads, closure, losses)  # type: ignore[call-arg]
        else:
            self.inner.step(params, grads)
        due = (self.t % self.h["k"] == 0)[:, 0]
        if not due.any():
            return
        slow = self.state["slow"]
        rows = slice(None) if due.all() else due
        pull = params[rows] - slow[rows]
        pull *= self.h["alpha"][rows]
        slow[rows] += pull
        params[rows] = slow[rows]


class SAM(Wrapper):
    """SAM: the inner optimizer steps with the gradient at the worst nearby point.

    Update rule (two gradient evaluations per step; norms over every tensor)::

        e = rho * g / (|g| + 1e-12)        ASAM (adaptive): e = rho * w^2 g / (|w g| + 1e-12)
        g' = gradient at w + e            (same batch)
        w = inner step(w, g')

    The racer's loss is the one at w, as davda54/sam reports it. The inner optimizer
    (default SGD) takes its own hyperparameters, lr among them.

    Reference: Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-aware minimization for
    efficiently improving generalization" (ICLR 2021); Kwon et al., "ASAM" (ICML 2021);
    the common torch implementation https://github.com/davda54/sam
    """

    name = "sam"
    summary = "SAM: inner step with the gradient at w + rho g/|g| (2 evaluations, wrapper)"
    default_inner = "sgd"
    needs_closure = True
    hparams: ClassVar[tuple[HParam, ...]] = (
        HParam("rho", 0.05, "radius of the ascent step", low=0.0),
        HParam("adaptive", False, "ASAM: ascent scaled by w^2 (scale-invariant)", "bool"),
    )

    @classmethod
    def check_inner(cls, inner_cls: type[Optimizer]) -> None:
        if inner_cls.needs_closure:
            raise HyperparameterError(
                f"sam.inner cannot be {inner_cls.name}: it evaluates the gradient itself"
            )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._point = np.empty_like(params)
        self._ascent_grad = np.empty_like(params)

    # A needs_closure family: the race passes the closure and losses (Optimizer.step).
    def step(  # type: ignore[override]
        self, params: np.ndarray, grads: np.ndarray, closure: Closure, losses: np.ndarray
    ) -> None:
        self._count_step()
        adaptive = self.flags["adaptive"]
        scaled = grads * np.abs(params) if adaptive else grads
        norms = np.stack(
            [np.sqrt(np.einsum("ij,ij->i", s, s)) for s in self._per_tensor(scaled)], axis=1
        )
        grad_norm = np.sqrt(np.einsum("ij,ij->i", norms, norms))[:, None]
        scale = self.h["rho"] / (grad_norm + 1e-12)
        ascent = params * params * grads if adaptive else grads.copy()
        ascent *= scale
        np.add(params, ascent, out=self._point)
        closure(self._point, self._ascent_grad, slice(None))
        self.inner.step(params, self._ascent_grad)

    def _per_tensor(self, values: np.ndarray) -> list[np.ndarray]:
        return [values[:, tensor.columns] for tensor in self.tensors]
