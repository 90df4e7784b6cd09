"""The contract every optimizer family follows.

An optimizer updates a *block*: a contiguous run of racer rows ``params[a:b]`` of shape
``(r, P)`` that share one optimizer family and the same structural flags (``nesterov``,
``amsgrad``, ``centered`` ...). Numeric hyperparameters may differ per row: they are stored
as ``(r, 1)`` columns so one vectorised update serves every row at once.

State is explicit: every array the optimizer keeps lives in ``self.state`` with the row axis
first, so the race can copy a row's state (fork), drop rows (remove) or stack blocks again
(add) without knowing the family.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from tui_optim.engine.errors import suggest

HParamKind = Literal["float", "int", "bool"]


class HyperparameterError(ValueError):
    """A hyperparameter value is missing, unknown or out of range.

    The message is one line that names the optimizer, the field and what is allowed.
    """


@dataclass(frozen=True)
class HParam:
    """One hyperparameter of an optimizer family, as the registry, CLI and UI read it.

    ``low``/``high`` bound the value; ``low_open``/``high_open`` make a bound exclusive.
    ``structural`` flags change the code path (booleans), so rows in one block share them.
    ``aliases`` are other accepted names (Keras spellings such as ``learning_rate``).
    """

    name: str
    default: float | int | bool
    help: str
    kind: HParamKind = "float"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def structural(self) -> bool:
        return self.kind == "bool"

    def allowed(self) -> str:
        """Human description of the allowed range, for error messages."""
        if self.kind == "bool":
            return "true or false"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in {left}{lo}, {hi}{right}"

    def check(self, value: Any, optimizer: str) -> float | int | bool:
        """Return ``value`` converted to this hyperparameter's kind, or raise."""
        where = f"{optimizer}.{self.name}"
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise HyperparameterError(f"{where} must be true or false, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HyperparameterError(f"{where} must be {self.allowed()}, got {value!r}")
        if self.kind == "int":
            if float(value) != int(value):
                raise HyperparameterError(f"{where} must be {self.allowed()}, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if not math.isfinite(value):
            raise HyperparameterError(f"{where} must be {self.allowed()}, got {value!r}")
        too_low = self.low is not None and (
            value < self.low or (self.low_open and value == self.low)
        )
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        )
        if too_low or too_high:
            raise HyperparameterError(f"{where} must be {self.allowed()}, got {value!r}")
        return value


class Optimizer:
    """Base class of an optimizer family working on a block of racer rows.

    Subclasses set the class attributes, allocate state in :meth:`init_state` and apply one
    update in place in :meth:`step`. Per-row numeric hyperparameters are ``self.h[name]``,
    ``(r, 1)`` arrays; structural flags are ``self.flags[name]``. The learning rate actually
    used at a step is ``self.lr`` (base ``lr`` times the schedule factor the race writes into
    ``self.lr_scale``).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    hparams: ClassVar[tuple[HParam, ...]]
    #: Keras/other spellings that expand into several of our names, e.g. betas -> beta1, beta2.
    pair_aliases: ClassVar[Mapping[str, tuple[str, str]]] = {}
    #: True for methods that only make sense with the full-batch gradient (Rprop).
    full_batch_only: ClassVar[bool] = False

    def __init__(self, rows: Sequence[Mapping[str, Any]], dtype: np.dtype | type = np.float64):
        if not rows:
            raise ValueError("an optimizer block needs at least one row")
        self.dtype = np.dtype(dtype)
        checked = [self.validate(row) for row in rows]
        self.flags: dict[str, bool] = {}
        self.h: dict[str, np.ndarray] = {}
        for spec in self.hparams:
            values = [row[spec.name] for row in checked]
            if spec.structural:
                if len(set(values)) != 1:
                    raise ValueError(f"rows of one {self.name} block differ in {spec.name}")
                self.flags[spec.name] = bool(values[0])
            else:
                self.h[spec.name] = np.array(values, dtype=self.dtype).reshape(-1, 1)
        self.lr_scale = np.ones((len(rows), 1), dtype=self.dtype)
        self.state: dict[str, np.ndarray] = {}
        #: Per-row step counts (r, 1): rows added or forked mid-race keep their own count.
        self.t = np.zeros((len(rows), 1), dtype=self.dtype)

    # ----------------------------------------------------------------- registry helpers
    @classmethod
    def spec(cls, name: str) -> HParam:
        for spec in cls.hparams:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @classmethod
    def canonical_name(cls, key: str) -> str | None:
        """Map a user-supplied key (ours or an alias) to our hyperparameter name."""
        for spec in cls.hparams:
            if key == spec.name or key in spec.aliases:
                return spec.name
        return None

    @classmethod
    def defaults(cls) -> dict[str, float | int | bool]:
        return {spec.name: spec.default for spec in cls.hparams}

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, float | int | bool]:
        """Fill defaults, resolve aliases and range-check; raise HyperparameterError."""
        out = cls.defaults()
        seen: dict[str, str] = {}
        for key, value in given.items():
            if key in cls.pair_aliases:
                if not isinstance(value, list | tuple) or len(value) != 2:
                    raise HyperparameterError(
                        f"{cls.name}.{key} must be a pair of numbers, got {value!r}"
                    )
                targets = cls.pair_aliases[key]
                pairs = list(zip(targets, value, strict=True))
            else:
                canonical = cls.canonical_name(key)
                if canonical is None:
                    known = sorted(
                        {s.name for s in cls.hparams}
                        | {a for s in cls.hparams for a in s.aliases}
                        | set(cls.pair_aliases)
                    )
                    raise HyperparameterError(
                        f"{cls.name} has no hyperparameter {key!r}{suggest(key, known)}; "
                        f"allowed: {', '.join(known)}"
                    )
                pairs = [(canonical, value)]
            for canonical, item in pairs:
                if canonical in seen and seen[canonical] != key:
                    raise HyperparameterError(
                        f"{cls.name}: {key!r} and {seen[canonical]!r} both set {canonical}"
                    )
                seen[canonical] = key
                out[canonical] = cls.spec(canonical).check(item, cls.name)
        cls.check_combination(out)
        return out

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        """Cross-field checks (e.g. nesterov needs momentum > 0); override where needed."""

    # ----------------------------------------------------------------- the update
    @property
    def lr(self) -> np.ndarray:
        return self.h["lr"] * self.lr_scale

    @property
    def rows(self) -> int:
        return int(self.lr_scale.shape[0])

    def init_state(self, params: np.ndarray) -> None:
        """Allocate ``self.state`` for ``params`` of shape (r, P). Override; call super."""
        self.t[:] = 0

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Apply one update to ``params`` (r, P) in place, given ``grads`` (r, P).

        Implementations start with ``self.t += 1`` so bias corrections see t = 1 first.
        """
        raise NotImplementedError

    def effective_step(self) -> np.ndarray:
        """Per-row, per-parameter step size multiplying the gradient direction, (r, P) or (r, 1).

        For plain SGD this is lr; adaptive methods override it (e.g. lr / sqrt(v_hat) + eps).
        """
        return self.lr

    # ----------------------------------------------------------------- row surgery
    def row_state(self, i: int) -> dict[str, np.ndarray]:
        """Copy of row ``i``'s state and hyperparameters (for fork and regrouping)."""
        return {
            "state": {k: v[i].copy() for k, v in self.state.items()},
            "t": float(self.t[i, 0]),
        }

    def set_row_state(self, i: int, saved: Mapping[str, Any]) -> None:
        for key, value in saved["state"].items():
            if key in self.state:
                self.state[key][i] = value
        self.t[i, 0] = saved["t"]

    def set_hparam(self, i: int, name: str, value: Any) -> None:
        """Change one numeric hyperparameter of row ``i`` live."""
        canonical = self.canonical_name(name)
        if canonical is None:
            raise HyperparameterError(f"{self.name} has no hyperparameter {name!r}")
        spec = self.spec(canonical)
        if spec.structural:
            raise HyperparameterError(f"{self.name}.{canonical} cannot change during a race")
        self.h[canonical][i, 0] = spec.check(value, self.name)
