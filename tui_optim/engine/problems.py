"""What a racer minimises: an MLP on a dataset, or a 2-D test surface.

Both give loss and gradient for a block of parameter rows (R, P) and a batch, so the race
engine never asks which kind it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from tui_optim.engine.init import initial_params
from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers.base import Tensor

if TYPE_CHECKING:
    from tui_optim.engine.data import Dataset
    from tui_optim.engine.surfaces import Surface

Split = Literal["train", "val"]
Point = tuple[float, float]

#: Prediction horizon (time series): the error allowed, relative to the targets' spread.
HORIZON_TOLERANCE = 0.1
#: Prediction horizon: start points averaged over.
HORIZON_STARTS = 8
#: Evaluation of an MLP on a whole split: examples per forward pass are chosen so one
#: hidden layer's activations of all racers hold about this many numbers (2 MB in float64).
#: A larger pass gains nothing (the work per example is the same) but streams its arrays
#: from memory instead of cache and keeps hundreds of MB of buffers for a split of digits.
EVALUATION_ELEMENTS = 1 << 18
#: Sharpness of an MLP: examples of the fixed probe batch its Hessian is taken on.
SHARPNESS_PROBE = 256
#: Sharpness of an MLP: evaluations between two estimates.
SHARPNESS_EVERY = 25
#: Sharpness of an MLP: power iterations per estimate (warm-started from the last vector).
SHARPNESS_ITERATIONS = 3


@dataclass(frozen=True)
class Evaluation:
    """Loss per racer and, for classification, accuracy per racer (both (R,))."""

    loss: np.ndarray
    accuracy: np.ndarray | None


@dataclass(frozen=True)
class ParamGroup:
    """A named slice of the parameter row: one layer's weights and biases, or a surface's w."""

    name: str
    weight: slice
    bias: slice | None = None


class Problem(Protocol):
    """The interface the race engine trains against."""

    n_params: int
    dtype: np.dtype
    #: Examples in one epoch (1 for a surface: one step is one epoch).
    n_train: int
    has_validation: bool
    is_classification: bool
    #: Known minima (global first); empty when none is known (every MLP).
    minima: tuple[tuple[float, float], ...]
    #: True when the loss has no lower bound (a racer may run away to -inf).
    unbounded_below: bool
    #: Evaluations between two sharpness estimates (1 where it is cheap and exact).
    sharpness_every: int
    #: A length that says what "far" means in parameter space (a surface's window
    #: diagonal); None when there is no such scale.
    length_scale: float | None

    #: The parameters are a point in the plane: a watcher draws each racer's trail.
    tracks_position: bool
    #: Training goes through mini-batches of the data (a surface has no data to batch).
    uses_batches: bool

    @property
    def has_horizon(self) -> bool:
        """Whether :meth:`horizon` applies (a windowed time series)."""
        ...

    def initial_params(self, seed: int, start: Point | None = None) -> np.ndarray:
        """The parameters a racer of repeat ``seed`` starts from; ``start`` is a racer's
        own start point where the problem has points (surfaces), ignored elsewhere."""
        ...

    def data_identity(self) -> bytes:
        """Bytes that pin down the training data (empty for a surface), for a race's
        fingerprint."""
        ...

    def start_identity(self, seed: int, starts: Sequence[Point]) -> bytes:
        """Bytes that pin down what repeat ``seed`` starts from (``starts``: the racers' own
        start points), for a race's fingerprint."""
        ...

    def named_arrays(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """One racer's parameter row as named arrays, as its weight file holds them."""
        ...

    def loss_and_grad(
        self, params: np.ndarray, batch: np.ndarray | None, grad_out: np.ndarray
    ) -> np.ndarray: ...

    def evaluate(self, params: np.ndarray, split: Split) -> Evaluation: ...

    def groups(self) -> tuple[ParamGroup, ...]: ...

    def tensors(self) -> tuple[Tensor, ...]: ...

    def horizon(self, params: np.ndarray) -> np.ndarray: ...

    def sharpness(
        self, params: np.ndarray, vectors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]: ...


def power_iteration(
    gradient: Callable[[np.ndarray], np.ndarray],
    params: np.ndarray,
    vectors: np.ndarray | None,
    iterations: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Top Hessian eigenvalue per row of ``params`` (R, P) and its eigenvector (R, P).

    Power iteration on Hessian-vector products by forward differences of the gradient,
    ``H v ~ (g(w + e v) - g(w)) / e`` with ``e = sqrt(machine eps) * max(1, |w|)``: one
    gradient per iteration. ``vectors`` (the previous estimate's) warm-starts it; the
    eigenvalue is the Rayleigh quotient ``v . H v`` of the last vector, so it keeps its
    sign (the top eigenvalue in magnitude; negative on a concave direction).
    """
    work = np.asarray(params, dtype=np.float64)
    if vectors is None or vectors.shape != work.shape:
        vectors = np.random.default_rng(seed).standard_normal(work.shape)
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    epsilon = np.sqrt(np.finfo(params.dtype).eps) * np.maximum(
        1.0, np.linalg.norm(work, axis=1, keepdims=True)
    )
    base = gradient(params).astype(np.float64)
    value = np.zeros(len(work))
    for _ in range(max(1, iterations)):
        shifted = (work + epsilon * v).astype(params.dtype)
        product = (gradient(shifted).astype(np.float64) - base) / epsilon
        value = np.einsum("ij,ij->i", v, product)
        norm = np.linalg.norm(product, axis=1, keepdims=True)
        v = np.where(norm > 0, product / np.maximum(norm, 1e-300), v)
    return np.where(np.isfinite(value), value, np.nan), v


class MLPProblem:
    """An :class:`MLP` trained on a :class:`Dataset` (already encoded and scaled)."""

    def __init__(self, mlp: MLP, data: Dataset, init: str | Path = "glorot_uniform"):
        self.mlp = mlp
        self.data = data.astype(mlp.dtype)
        self.init = init
        self.n_params = mlp.n_params
        self.dtype = mlp.dtype
        self.n_train = self.data.n_train
        self.has_validation = self.data.n_val > 0
        self.is_classification = self.data.task == "classification"
        self.minima: tuple[tuple[float, float], ...] = ()
        self.unbounded_below = False
        self.length_scale: float | None = None
        self.sharpness_every = SHARPNESS_EVERY
        self._widest = max(mlp.sizes[1:])
        probe = np.arange(self.n_train)
        if self.n_train > SHARPNESS_PROBE:
            probe = np.sort(np.random.default_rng(0).permutation(self.n_train)[:SHARPNESS_PROBE])
        self._probe = probe

    tracks_position = False
    uses_batches = True

    def initial_params(self, seed: int, start: Point | None = None) -> np.ndarray:
        return initial_params(self.mlp, self.init, seed)

    def data_identity(self) -> bytes:
        """The training inputs' and targets' bytes."""
        return (
            np.ascontiguousarray(self.data.X_train).tobytes()
            + np.ascontiguousarray(self.data.Y_train).tobytes()
        )

    def start_identity(self, seed: int, starts: Sequence[Point]) -> bytes:
        """Repeat ``seed``'s initial weights (racers of an MLP race have no start points)."""
        return np.asarray(self.initial_params(seed), dtype=self.dtype).reshape(-1).tobytes()

    def named_arrays(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """``W1, b1, W2, ...`` in Keras' layout."""
        return self.mlp.to_arrays(params)

    def loss_and_grad(
        self, params: np.ndarray, batch: np.ndarray | None, grad_out: np.ndarray
    ) -> np.ndarray:
        if batch is None:
            x, y = self.data.X_train, self.data.Y_train
        else:
            x, y = self.data.X_train[batch], self.data.Y_train[batch]
        return self.mlp.loss_and_grad(params, x, y, grad_out)

    def evaluate(self, params: np.ndarray, split: Split) -> Evaluation:
        if split == "train":
            x, y, labels = self.data.X_train, self.data.Y_train, self.data.labels_train
        else:
            x, y, labels = self.data.X_val, self.data.Y_val, self.data.labels_val
        count = x.shape[0]
        if count == 0:
            nan = np.full(params.shape[0], np.nan)
            return Evaluation(nan, nan if self.is_classification else None)
        chunk = max(32, EVALUATION_ELEMENTS // (params.shape[0] * self._widest))
        with_accuracy = self.is_classification and labels is not None
        loss = np.zeros(params.shape[0])
        correct = np.zeros(params.shape[0])
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            part, scores = self.mlp.loss_and_scores(params, x[start:stop], y[start:stop])
            if stop - start == count:
                loss = part  # one pass: the mean as the loss computes it
            else:
                loss += part * ((stop - start) / count)
            if labels is not None and with_accuracy:
                correct += (self.predict_labels(scores) == labels[start:stop]).sum(axis=1)
        accuracy = correct / count if with_accuracy else None
        return Evaluation(loss, accuracy)

    @property
    def has_horizon(self) -> bool:
        """Whether :meth:`horizon` applies: a time series whose rows are sliding windows."""
        return self.data.autoregressive and self.data.n_val > 1 and self.data.n_outputs == 1

    def horizon(self, params: np.ndarray) -> np.ndarray:
        """Prediction horizon per racer (R,): how many steps ahead it stays on the series.

        From each of :data:`HORIZON_STARTS` points spread over the first half of the
        validation part (the future the racer never trained on), the model is iterated on
        its own predictions: each prediction becomes the newest value of the next input
        window. The horizon at a start is the number of steps predicted before the error
        first exceeds :data:`HORIZON_TOLERANCE` times the spread of the training targets;
        the figure is its mean over the starts (capped by the steps available). A small
        one-step error grows exponentially on a chaotic series, so this, not the validation
        loss, shows how far ahead a model really predicts.
        """
        data = self.data
        assert data.x_centre is not None and data.x_spread is not None
        x_val = np.asarray(data.X_val, dtype=np.float64)
        y_val = np.asarray(data.Y_val[:, 0], dtype=np.float64)
        centre, spread = data.x_centre, data.x_spread
        tolerance = HORIZON_TOLERANCE * float(np.std(data.Y_train))
        longest = max(len(y_val) // 2, 1)
        starts = np.unique(np.linspace(0, len(y_val) - longest, HORIZON_STARTS).astype(int))
        racers = params.shape[0]
        # Raw (unscaled) windows, one per racer and start: (R, S, k).
        windows = np.broadcast_to(
            x_val[starts] * spread + centre, (racers, len(starts), x_val.shape[1])
        ).copy()
        horizon = np.full((racers, len(starts)), longest, dtype=np.float64)
        alive = np.ones((racers, len(starts)), dtype=bool)
        with np.errstate(all="ignore"):
            for ahead in range(longest):
                scaled = ((windows - centre) / spread).astype(self.dtype)
                predicted = self.mlp.forward(params, scaled)[..., 0].astype(np.float64)
                wrong = alive & ~(np.abs(predicted - y_val[starts + ahead]) <= tolerance)
                horizon[wrong] = ahead
                alive &= ~wrong
                if not alive.any():
                    break
                windows[..., :-1] = windows[..., 1:]
                windows[..., -1] = predicted
        return horizon.mean(axis=1)

    def sharpness(
        self, params: np.ndarray, vectors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top eigenvalue of the training loss's Hessian per racer (R,), and its vector.

        Power iteration (:func:`power_iteration`, :data:`SHARPNESS_ITERATIONS` steps) on a
        fixed probe batch of at most :data:`SHARPNESS_PROBE` training examples, the same
        every time so successive estimates are comparable.
        """
        x = self.data.X_train[self._probe]
        y = self.data.Y_train[self._probe]
        iterations = SHARPNESS_ITERATIONS if vectors is not None else 2 * SHARPNESS_ITERATIONS

        def gradient(at: np.ndarray) -> np.ndarray:
            out = np.empty_like(at)
            self.mlp.loss_and_grad(at, x, y, out)
            return out

        return power_iteration(gradient, params, vectors, iterations)

    def predict_labels(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices (R, B) from output activations (R, B, out), or from any scores in
        the same order along each row (:meth:`MLP.loss_and_scores`)."""
        if outputs.shape[2] == 1:
            # one sigmoid/linear unit: binary 0/1 or a class index regressed as a value
            classes = 1 if self.data.classes is None else len(self.data.classes) - 1
            return np.clip(np.rint(outputs[..., 0]), 0, max(classes, 1)).astype(np.int64)
        return outputs.argmax(axis=2)

    def groups(self) -> tuple[ParamGroup, ...]:
        return tuple(ParamGroup(s.name, s.weight, s.bias) for s in self.mlp.layers)

    def tensors(self) -> tuple[Tensor, ...]:
        """Each layer's weight matrix (fan_in, fan_out) and bias vector, in row order."""
        out: list[Tensor] = []
        for s in self.mlp.layers:
            out.append(Tensor(f"W{s.index}", s.weight, (s.fan_in, s.fan_out)))
            out.append(Tensor(f"b{s.index}", s.bias, (s.fan_out,)))
        return tuple(out)


class SurfaceProblem:
    """A 2-D test function: the parameters are the point (w0, w1)."""

    n_params = 2
    n_train = 1
    has_validation = False
    is_classification = False
    has_horizon = False
    sharpness_every = 1

    def __init__(
        self,
        surface: Surface,
        start: tuple[float, float] | None = None,
        dtype: np.dtype | type = np.float64,
    ):
        self.surface = surface
        self.requested_start = start
        self.start = tuple(surface.default_start if start is None else start)
        self.dtype = np.dtype(dtype)
        self.minima = surface.minima
        self.unbounded_below = surface.unbounded_below
        xmin, xmax, ymin, ymax = surface.bounds
        self.length_scale: float | None = float(np.hypot(xmax - xmin, ymax - ymin))

    tracks_position = True
    uses_batches = False

    def initial_params(self, seed: int, start: Point | None = None) -> np.ndarray:
        return np.array(self.start if start is None else start, dtype=self.dtype)

    def data_identity(self) -> bytes:
        """A surface has no data."""
        return b""

    def start_identity(self, seed: int, starts: Sequence[Point]) -> bytes:
        """The start point the scenario asked for (None: the surface's default) and the
        racers' own start points; the seed changes nothing on a surface."""
        return repr((self.requested_start, list(starts))).encode()

    def named_arrays(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """The point as one array ``w``."""
        return {"w": np.array(params, copy=True)}

    def loss_and_grad(
        self, params: np.ndarray, batch: np.ndarray | None, grad_out: np.ndarray
    ) -> np.ndarray:
        self.surface.gradient(params, out=grad_out)
        return self.surface.value(params)

    def evaluate(self, params: np.ndarray, split: Split) -> Evaluation:
        return Evaluation(self.surface.value(params), None)

    def groups(self) -> tuple[ParamGroup, ...]:
        return (ParamGroup("w", slice(0, 2)),)

    def tensors(self) -> tuple[Tensor, ...]:
        """The point (w0, w1) is one vector."""
        return (Tensor("w", slice(0, 2), (2,)),)

    def horizon(self, params: np.ndarray) -> np.ndarray:
        raise TypeError("a surface has no prediction horizon")

    def sharpness(
        self, params: np.ndarray, vectors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact largest eigenvalue of the 2 x 2 Hessian per row, and its vector (the
        curvature that limits a gradient step's stability)."""
        values, vectors_out = np.linalg.eigh(self.surface.hessian(params))
        return values[:, -1], vectors_out[:, :, -1]
