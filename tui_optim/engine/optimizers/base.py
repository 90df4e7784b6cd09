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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from tui_optim.engine.errors import suggest

HParamKind = Literal["float", "int", "bool"]

#: ``closure(params, grad_out, rows) -> losses``: the problem's loss on the step's batch at
#: ``params`` (k, P), returned as (k,), its gradient written into ``grad_out`` (k, P).
#: ``rows`` (a slice or an index array into the block) says which racers these are: each
#: call counts one gradient evaluation for each of them. Rows may be evaluated alone and a
#: different number of times each (L-BFGS's line search).
Closure = Callable[[np.ndarray, np.ndarray, "slice | np.ndarray"], np.ndarray]


@dataclass(frozen=True)
class Tensor:
    """One weight matrix or bias vector inside a flat parameter row.

    ``columns`` is its slice of the P axis; ``shape`` its own shape, a weight matrix in the
    Keras layout (fan_in, fan_out) and a bias vector (fan_out,). Rules that act per tensor
    (LAMB, LARS, Adafactor, Muon ...) reshape ``params[:, columns]`` to ``(r, *shape)``.
    """

    name: str
    columns: slice
    shape: tuple[int, ...]

    @property
    def is_matrix(self) -> bool:
        return len(self.shape) == 2


class HyperparameterError(ValueError):
    """A hyperparameter value is missing, unknown or out of range.

    The message is one line that names the optimizer, the field and what is allowed.
    ``key`` is the name the caller gave for the bad value (an alias such as ``betas`` as
    given), or None for a rule between several values (``check_combination``).
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


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
        error = HyperparameterError(f"{where} must be {self.allowed()}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise error
        if not math.isfinite(value):
            raise error
        if self.kind == "int":
            if float(value) != int(value):
                raise error
            value = int(value)
        else:
            value = float(value)
        too_low = self.low is not None and (
            value < self.low or (self.low_open and value == self.low)
        )
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        )
        if too_low or too_high:
            raise error
        return value


def lr_param(default: float) -> HParam:
    return HParam(
        "lr", default, "learning rate", low=0.0, low_open=True, aliases=("learning_rate",)
    )


def eps_param(default: float, help: str = "added to the denominator for stability") -> HParam:
    return HParam("eps", default, help, low=0.0, low_open=True, aliases=("epsilon",))


def beta_param(name: str, default: float, help: str) -> HParam:
    """beta1/beta2 in [0, 1), also accepted as Keras' beta_1/beta_2."""
    keras = name.replace("beta", "beta_")
    return HParam(name, default, help, low=0.0, high=1.0, high_open=True, aliases=(keras,))


def weight_decay_param(default: float = 0.0, decoupled: bool = False) -> HParam:
    help = (
        "decoupled decay: params *= 1 - lr * weight_decay"
        if decoupled
        else "L2 penalty: weight_decay * params is added to the gradient"
    )
    return HParam("weight_decay", default, help, low=0.0)


#: ``betas=(b1, b2)`` as torch spells it, expanding to our beta1 and beta2.
BETAS = {"betas": ("beta1", "beta2")}


def momentum_threshold(lr: float, momentum: float, nesterov: bool) -> tuple[float, str]:
    """Stability threshold of gradient descent with heavy-ball or Nesterov momentum on a
    quadratic: ``(2 + 2 m) / lr`` (heavy ball; ``2/lr`` for m = 0) and
    ``(2 + 2 m) / ((1 + 2 m) lr)`` (Nesterov), Cohen et al. (2021), appendix."""
    if momentum <= 0:
        return 2.0 / lr, "2/lr"
    if nesterov:
        formula = f"(2+2*{momentum:g})/((1+2*{momentum:g})*lr)"
        return (2 + 2 * momentum) / ((1 + 2 * momentum) * lr), formula
    return (2 + 2 * momentum) / lr, f"(2+2*{momentum:g})/lr"


def lerp_(
    target: np.ndarray,
    end: np.ndarray,
    weight: np.ndarray,
    scratch: np.ndarray,
    small: np.ndarray | None = None,
) -> None:
    """``target += weight * (end - target)`` in place, rounded exactly as ``torch.lerp_``.

    torch switches formula at |weight| 0.5 (for accuracy); copying it keeps float64 parity.
    ``weight`` is an (r, 1) column; ``scratch`` has ``target``'s shape; ``small`` may pass a
    precomputed ``abs(weight) < 0.5`` (r, 1) mask.
    """
    np.subtract(end, target, out=scratch)
    if small is None:
        small = np.abs(weight) < 0.5
    if small.all():
        scratch *= weight
        target += scratch
        return
    if not small.any():
        scratch *= 1 - weight
        np.subtract(end, scratch, out=target)
        return
    rows = small[:, 0]
    target[rows] += scratch[rows] * weight[rows]
    target[~rows] = end[~rows] - scratch[~rows] * (1 - weight[~rows])


class Optimizer:
    """Base class of an optimizer family working on a block of racer rows.

    Subclasses set the class attributes, allocate state in :meth:`init_state` and apply one
    update in place in :meth:`step`. Per-row numeric hyperparameters are ``self.h[name]``,
    ``(r, 1)`` arrays (change them with :meth:`set_hparam`, which also clears the values
    derived from them); structural flags are ``self.flags[name]``. The learning rate actually
    used at a step is ``self.lr`` (base ``lr`` times the schedule factor the race writes into
    ``self.lr_scale``).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    #: Whose update rules and defaults the family reproduces: "torch" or "keras".
    flavor: ClassVar[str] = "torch"
    hparams: ClassVar[tuple[HParam, ...]]
    #: Spellings that expand into several of our names, e.g. betas -> beta1, beta2.
    pair_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: True for methods that only make sense with the full-batch gradient (Rprop, L-BFGS):
    #: a scenario that gives such a racer mini-batches is refused.
    full_batch_only: ClassVar[bool] = False
    #: Why this family's effective step can only shrink, for a diagnosis of a stall (None:
    #: its steps can grow again).
    shrinking_step: ClassVar[str | None] = None

    @classmethod
    def stability_threshold(cls, hparams: Mapping[str, Any]) -> tuple[float, str] | None:
        """The largest loss curvature (top Hessian eigenvalue) at which this rule, with these
        hyperparameters, is stable on a quadratic, and the formula as text (``"2/lr"``);
        None for rules without a fixed threshold (adaptive methods rescale per weight).
        Above it the loss oscillates or diverges (Cohen et al., "Gradient Descent on Neural
        Networks Typically Occurs at the Edge of Stability", ICLR 2021)."""
        return None
    #: True for methods that evaluate the gradient again within a step (L-BFGS, SAM): the
    #: race passes them a :data:`Closure` as ``step``'s third argument.
    needs_closure: bool = False

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
        #: Values derived from ``self.h`` once (flags, 1 - beta ...); set_hparam clears it.
        self._derived: dict[str, Any] = {}
        self.state: dict[str, np.ndarray] = {}
        #: Per-row step counts (r, 1): rows added or forked mid-race keep their own count.
        self.t = np.zeros((len(rows), 1), dtype=self.dtype)
        self._one_per_row = np.ones_like(self.t)
        #: The tensors of a parameter row; the race sets them before ``init_state`` (the
        #: default, one vector of every column, suits rules that act on the whole row).
        self.tensors: tuple[Tensor, ...] = ()

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
    def accepted_keys(cls) -> list[str]:
        """Every key a scenario racer may give this family (names, aliases), sorted."""
        return sorted(
            {s.name for s in cls.hparams}
            | {a for s in cls.hparams for a in s.aliases}
            | set(cls.pair_aliases)
        )

    @classmethod
    def block_key(cls, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """What rows of one block must share, from validated hyperparameters: the
        structural flags (a wrapper adds its inner optimizer)."""
        return tuple(values[h.name] for h in cls.hparams if h.structural)

    @classmethod
    def requires_full_batch(cls, values: Mapping[str, Any]) -> bool:
        """Whether a racer with these validated hyperparameters needs the full batch."""
        return cls.full_batch_only

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, float | int | bool]:
        """Fill defaults, resolve aliases and range-check; raise HyperparameterError."""
        out = cls.defaults()
        seen: dict[str, str] = {}
        for key, value in given.items():
            try:
                cls._validate_one(key, value, out, seen)
            except HyperparameterError as error:
                raise HyperparameterError(str(error), key) from None
        cls.check_combination(out)
        return out

    @classmethod
    def _validate_one(
        cls, key: str, value: Any, out: dict[str, float | int | bool], seen: dict[str, str]
    ) -> None:
        """Check ``key = value`` into ``out`` (``seen``: which given key set each name)."""
        if key in cls.pair_aliases:
            targets = cls.pair_aliases[key]
            if not isinstance(value, list | tuple) or len(value) != len(targets):
                count = "a pair of" if len(targets) == 2 else f"a list of {len(targets)}"
                raise HyperparameterError(
                    f"{cls.name}.{key} must be {count} numbers, got {value!r}"
                )
            pairs = list(zip(targets, value, strict=True))
        else:
            canonical = cls.canonical_name(key)
            if canonical is None:
                known = cls.accepted_keys()
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
        if params.ndim != 2 or params.shape[0] != self.rows:
            raise ValueError(
                f"{self.name}: params must have shape ({self.rows}, P), got {params.shape}"
            )
        if not self.tensors:
            self.tensors = (Tensor("w", slice(0, params.shape[1]), (params.shape[1],)),)
        self.t[:] = 0
        self.state = {}
        self._scratch: dict[str, np.ndarray] = {}

    # ----------------------------------------------------------------- helpers for families
    def _count_step(self) -> None:
        """``t += 1`` on every row. Adding a ones column: a Python 1 added to an (r, 1) array
        costs half as much again, and this runs on every step of every racer."""
        np.add(self.t, self._one_per_row, out=self.t)

    def _new_state(self, params: np.ndarray, name: str, fill: float | np.ndarray = 0.0) -> None:
        """Add a state array shaped like ``params``; ``fill`` may be an (r, 1) column."""
        array = np.empty(params.shape, dtype=self.dtype)
        array[...] = fill
        self.state[name] = array

    def _buffer(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A preallocated scratch array (not state: never copied between rows)."""
        buffer = self._scratch.get(name)
        if buffer is None:
            any_state = next(iter(self.state.values()), None)
            if shape is None:
                if any_state is None:
                    raise RuntimeError(f"{self.name}: init_state was not called")
                shape = any_state.shape
            buffer = self._scratch[name] = np.empty(shape, dtype=self.dtype)
        return buffer

    def _uses(self, name: str) -> bool:
        """Whether any row has a nonzero ``name`` (cached: lets a block skip unused terms)."""
        key = f"uses {name}"
        if key not in self._derived:
            self._derived[key] = bool(self.h[name].any())
        return self._derived[key]

    def _complement(self, name: str) -> np.ndarray:
        """``1 - h[name]`` per row (cached), e.g. the weight of g in a moving average."""
        key = f"1 - {name}"
        if key not in self._derived:
            self._derived[key] = 1 - self.h[name]
        return self._derived[key]

    def _moving_average(
        self, average: np.ndarray, value: np.ndarray, decay: str, scratch: np.ndarray
    ) -> None:
        """``average = decay * average + (1 - decay) * value``, rounded as torch's lerp_."""
        weight = self._complement(decay)
        key = f"lerp small {decay}"
        if key not in self._derived:
            self._derived[key] = np.abs(weight) < 0.5
        lerp_(average, value, weight, scratch, self._derived[key])

    def _with_weight_decay(self, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """``grads + weight_decay * params`` (L2 penalty folded into the gradient, as torch).

        Returns ``grads`` itself when every row's weight_decay is 0; never writes to ``grads``.
        """
        if not self._uses("weight_decay"):
            return grads
        decay = self.h["weight_decay"]
        decayed = self._buffer("decayed_grad", params.shape)
        np.multiply(params, decay, out=decayed)
        decayed += grads
        return decayed

    def _gradient_after_decay(
        self, params: np.ndarray, grads: np.ndarray, lr: np.ndarray, decoupled: bool
    ) -> np.ndarray:
        """AdamW's decoupled decay shrinks the weights and leaves the gradient; otherwise the
        L2 penalty joins the gradient (torch's ``decoupled_weight_decay`` switch)."""
        if decoupled:
            self._decay_weights(params, lr)
            return grads
        return self._with_weight_decay(params, grads)

    def _update_moments(self, grad: np.ndarray, work: np.ndarray) -> None:
        """Adam's moments in place, in torch's order: ``exp_avg`` lerps towards g (beta1),
        ``exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g``."""
        exp_avg_sq = self.state["exp_avg_sq"]
        self._moving_average(self.state["exp_avg"], grad, "beta1", work)
        exp_avg_sq *= self.h["beta2"]
        np.multiply(grad, self._complement("beta2"), out=work)
        work *= grad
        exp_avg_sq += work

    def _decay_weights(self, params: np.ndarray, lr: np.ndarray) -> None:
        """Decoupled weight decay ``params *= 1 - lr * weight_decay`` (AdamW, Lion)."""
        if self._uses("weight_decay"):
            params *= 1 - lr * self.h["weight_decay"]

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Apply one update to ``params`` (r, P) in place, given ``grads`` (r, P).

        Implementations start with ``self._count_step()`` so bias corrections see t = 1 first.
        Families with ``needs_closure`` take two more arguments: the :data:`Closure` that
        evaluates the loss and gradient again, and the losses (r,) at ``params`` (``grads``
        and these losses are the step's first evaluation, which the race already made).
        """
        raise NotImplementedError

    def evaluation_params(self, params: np.ndarray) -> np.ndarray:
        """The weights (r, P) to report a loss at and to export, for ``params`` the rows this
        optimizer steps. The same array for most rules; schedule-free methods take gradients
        at one point and evaluate at another, which they compute from their state."""
        return params

    def effective_step(self) -> np.ndarray:
        """Per-row, per-parameter step size multiplying the gradient direction, (r, P) or (r, 1).

        For plain SGD this is lr; adaptive methods override it (e.g. lr / sqrt(v_hat) + eps).
        """
        return self.lr

    # ----------------------------------------------------------------- row surgery
    def row_state(self, i: int) -> dict[str, Any]:
        """Copy of row ``i``'s state arrays and step count (for fork and regrouping).

        Hyperparameters are not included: the race rebuilds blocks from hyperparameter rows.
        """
        return {
            "state": {k: v[i].copy() for k, v in self.state.items()},
            "t": float(self.t[i, 0]),
        }

    def set_row_state(self, i: int, saved: Mapping[str, Any]) -> None:
        """Restore what :meth:`row_state` returned into row ``i`` (after ``init_state``)."""
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
        self._derived.clear()
