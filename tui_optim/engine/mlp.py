"""A dense multilayer perceptron for R racers at once, on flat parameter rows.

Each racer's parameters are one row of an (R, P) array laid out as Keras does:
``W1`` (in, out) row-major, ``b1``, ``W2``, ``b2`` ... Per-layer views into a row block are
plain NumPy views, so optimizers update the whole vector with a few in-place operations and
forward/backward run once for all racers with batched matmul: ``(B, in) @ (R, in, out)``.
Activation and gradient buffers are preallocated per (R, B) and reused every step.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tui_optim.engine.activations import Activation, get_activation
from tui_optim.engine.losses import Head, make_head

MAX_UNITS = 4096  # per layer: a 1e6-unit layer would need terabytes for a few racers
MAX_PARAMS = 5_000_000
#: Elements per array in one block of a hidden layer's elementwise passes. A large batch is
#: activated a block of rows at a time, so the block's z, a, slope and scratch (4 x 256 KB
#: in float64) stay in the core's L2 cache across the ten or so passes instead of each pass
#: streaming the whole layer from memory.
BLOCK_ELEMENTS = 32768


class ModelError(ValueError):
    """A model description that cannot be built (one-line message)."""


@dataclass(frozen=True)
class LayerSlice:
    """Where one dense layer's weights and biases sit in a flat parameter row."""

    index: int
    fan_in: int
    fan_out: int
    weight: slice
    bias: slice

    @property
    def name(self) -> str:
        return f"layer {self.index} ({self.fan_in}->{self.fan_out})"


class _Buffers:
    """Forward/backward scratch space for one (R, B) shape, reused every step."""

    def __init__(self, mlp: MLP, racers: int, batch: int):
        dtype = mlp.dtype
        shapes = [(racers, batch, s.fan_out) for s in mlp.layers]
        self.z = [np.empty(shape, dtype) for shape in shapes]
        self.a = [np.empty(shape, dtype) for shape in shapes]
        self.delta = [np.empty(shape, dtype) for shape in shapes]
        self.slope = [np.empty(shape, dtype) for shape in shapes[:-1]]
        self.work = [np.empty(shape, dtype) for shape in shapes[:-1]]  # activation scratch
        self.scratch = np.empty(shapes[-1], dtype)  # the head's work space
        self.rows = np.empty((racers, batch), dtype)
        self.ones = np.ones(batch, dtype)


class _Views(NamedTuple):
    """Per-layer views of one flat (R, P) array; the 2-D ones exist only when R == 1."""

    flat: np.ndarray
    weights: list[np.ndarray]  # (R, in, out)
    weights_t: list[np.ndarray]  # (R, out, in), transposed views for backward
    biases: list[np.ndarray]  # (R, 1, out)
    bias_rows: list[np.ndarray]  # (R, out)
    weights_2d: list[np.ndarray] | None  # (in, out)
    biases_1d: list[np.ndarray] | None  # (out,)


class MLP:
    """Dense layers with one hidden activation and a fused output head.

    ``layers`` lists unit counts, input first: ``[4, 5, 3, 2]`` is the course's network.
    """

    def __init__(
        self,
        layers: Sequence[int],
        hidden: str = "sigmoid",
        output: str = "linear",
        loss: str = "mse",
        dtype: np.dtype | type | str = np.float64,
    ):
        sizes = list(layers)
        if len(sizes) < 2:
            raise ModelError(f"layers needs at least an input and an output size, got {sizes}")
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_UNITS:
                raise ModelError(
                    f"layers: every size must be an integer in [1, {MAX_UNITS}], got {size!r}"
                )
        self.sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float64, np.float32):
            raise ModelError(f"dtype must be 'float64' or 'float32', got {str(dtype)!r}")
        self.hidden: Activation = get_activation(hidden)
        self.head: Head = make_head(output, loss)
        slices = []
        offset = 0
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
            weight = slice(offset, offset + fan_in * fan_out)
            bias = slice(weight.stop, weight.stop + fan_out)
            slices.append(LayerSlice(index, fan_in, fan_out, weight, bias))
            offset = bias.stop
        if offset > MAX_PARAMS:
            raise ModelError(f"the model has {offset} parameters; the limit is {MAX_PARAMS}")
        self.layers: tuple[LayerSlice, ...] = tuple(slices)
        self.n_params = offset
        self._buffers: dict[tuple[int, int], _Buffers] = {}
        self._view_cache: dict[int, _Views] = {}

    def __repr__(self) -> str:
        return (
            f"MLP({list(self.sizes)}, hidden={self.hidden.name!r}, "
            f"output={self.head.output!r}, loss={self.head.loss!r}, dtype={self.dtype.name})"
        )

    # ------------------------------------------------------------------ layout
    def views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-layer ``(W (R, in, out), b (R, 1, out))`` views of ``flat`` (R, P)."""
        racers = flat.shape[0]
        return [
            (
                flat[:, s.weight].reshape(racers, s.fan_in, s.fan_out),
                flat[:, s.bias].reshape(racers, 1, s.fan_out),
            )
            for s in self.layers
        ]

    def to_arrays(self, row: np.ndarray) -> dict[str, np.ndarray]:
        """One racer's parameters as ``{"W1": (in, out), "b1": (out,), ...}`` copies."""
        arrays = {}
        for s in self.layers:
            arrays[f"W{s.index}"] = row[s.weight].reshape(s.fan_in, s.fan_out).copy()
            arrays[f"b{s.index}"] = row[s.bias].copy()
        return arrays

    def from_arrays(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Flatten ``{"W1", "b1", ...}`` (Keras layout) into one parameter row."""
        row = np.empty(self.n_params, dtype=self.dtype)
        for s in self.layers:
            row[s.weight] = np.asarray(arrays[f"W{s.index}"]).reshape(-1)
            row[s.bias] = np.asarray(arrays[f"b{s.index}"]).reshape(-1)
        return row

    def _buffers_for(self, racers: int, batch: int) -> _Buffers:
        key = (racers, batch)
        buffers = self._buffers.get(key)
        if buffers is None:
            if len(self._buffers) > 8:  # a changing batch size must not grow memory forever
                self._buffers.clear()
            buffers = self._buffers[key] = _Buffers(self, racers, batch)
        return buffers

    def _views_of(self, flat: np.ndarray) -> _Views:
        """Views of ``flat``, cached per array object (the race passes the same arrays).

        The cache holds a reference to each array it has views of, so an ``id`` is never
        reused while cached and a hit always means the very same array object.
        """
        cached = self._view_cache.get(id(flat))
        if cached is not None and cached.flat is flat and cached.flat.shape == flat.shape:
            return cached
        if flat.ndim != 2 or flat.shape[1] != self.n_params:
            raise ModelError(
                f"parameters must be (R, {self.n_params}) for {self!r}, got {flat.shape}"
            )
        racers = flat.shape[0]
        weights, weights_t, biases, bias_rows = [], [], [], []
        for s in self.layers:
            weight = flat[:, s.weight].reshape(racers, s.fan_in, s.fan_out)
            weights.append(weight)
            weights_t.append(weight.transpose(0, 2, 1))
            bias_rows.append(flat[:, s.bias])
            biases.append(bias_rows[-1].reshape(racers, 1, s.fan_out))
        # np.dot on 2-D arrays is the fastest product, but wants a C-contiguous out=
        single = racers == 1 and flat.strides[1] == flat.itemsize
        views = _Views(
            flat,
            weights,
            weights_t,
            biases,
            bias_rows,
            [w[0] for w in weights] if single else None,
            [b[0] for b in bias_rows] if single else None,
        )
        if len(self._view_cache) >= 16:  # fresh arrays every call must not pile up
            self._view_cache.clear()
        self._view_cache[id(flat)] = views
        return views

    # ------------------------------------------------------------------ compute
    def forward(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Output activations (R, B, out) for inputs ``x``; a fresh array.

        ``x`` is (B, in), shared by every racer, or (R, B, in), each racer its own inputs
        (a racer fed back its own predictions).
        """
        x = np.asarray(x, dtype=self.dtype)
        buffers = self._forward(self._views_of(params), x)
        return self.head.activate(buffers.z[-1], np.empty_like(buffers.z[-1]))

    def loss_and_outputs(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Loss per racer (R,) and output activations (R, B, out), fresh arrays."""
        losses = self.loss(params, x, y)
        return losses, self._buffers_for(params.shape[0], x.shape[0]).a[-1].copy()

    def loss(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Loss per racer (R,) on ``x`` (B, in) and targets ``y`` (B, out)."""
        x = np.asarray(x, dtype=self.dtype)
        y = np.asarray(y, dtype=self.dtype)
        b = self._forward(self._views_of(params), x)
        return self.head.value_and_delta(b.z[-1], y, b.a[-1], b.delta[-1], b.scratch, b.rows)

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray, grad_out: np.ndarray
    ) -> np.ndarray:
        """Loss per racer (R,); the gradient of each racer's mean loss goes into ``grad_out``.

        ``params`` and ``grad_out`` are (R, P); ``x`` is (B, in) and ``y`` (B, out), shared by
        every racer. Passing the same array objects every step lets their views be reused.
        """
        x = np.asarray(x, dtype=self.dtype)
        y = np.asarray(y, dtype=self.dtype)
        weights = self._views_of(params)
        grads = self._views_of(grad_out)
        b = self._forward(weights, x, slopes=True)
        losses = self.head.value_and_delta(b.z[-1], y, b.a[-1], b.delta[-1], b.scratch, b.rows)
        single = weights.weights_2d is not None and grads.weights_2d is not None
        slope_needed = self.hidden.name != "linear"
        for index in range(len(self.layers) - 1, -1, -1):
            delta = b.delta[index]
            below = x if index == 0 else b.a[index - 1]
            if single:
                delta_2d = delta[0]
                below_2d = below if index == 0 else below[0]
                np.dot(below_2d.T, delta_2d, out=grads.weights_2d[index])
                np.dot(b.ones, delta_2d, out=grads.biases_1d[index])
            else:
                np.matmul(np.swapaxes(below, -1, -2), delta, out=grads.weights[index])
                np.matmul(b.ones, delta, out=grads.bias_rows[index])
            if index == 0:
                break
            previous = b.delta[index - 1]
            if single:
                np.dot(delta_2d, weights.weights_2d[index].T, out=previous[0])
            else:
                np.matmul(delta, weights.weights_t[index], out=previous)
            if slope_needed:
                previous *= b.slope[index - 1]
        return losses

    def _forward(self, views: _Views, x: np.ndarray, slopes: bool = False) -> _Buffers:
        """Run the layers; the output layer's pre-activation ends in ``z[-1]``.

        With ``slopes``, each hidden layer's derivative goes into ``slope`` too, while its
        ``z`` and ``a`` are still in cache (backward needs it; a plain loss does not).
        """
        racers = views.flat.shape[0]
        b = self._buffers_for(racers, x.shape[-2])
        if x.shape[-1] != self.sizes[0] or not (
            x.ndim == 2 or (x.ndim == 3 and x.shape[0] == racers)
        ):
            raise ModelError(
                f"inputs must be (B, {self.sizes[0]}) or ({racers}, B, {self.sizes[0]}), "
                f"got {x.shape}"
            )
        below = x
        last = len(self.layers) - 1
        single = views.weights_2d is not None
        for index in range(last + 1):
            z = b.z[index]
            if single:
                below_2d = below if below.ndim == 2 else below[0]
                np.dot(below_2d, views.weights_2d[index], out=z[0])
            else:
                np.matmul(below, views.weights[index], out=z)
            if index == last:
                z += views.biases[index]
                break
            below = b.a[index]
            slope = b.slope[index] if slopes and self.hidden.name != "linear" else None
            if z.size <= 2 * BLOCK_ELEMENTS:
                self._activate(z, views.biases[index], below, slope, b.work[index])
                continue
            rows = max(1, BLOCK_ELEMENTS // (z.shape[0] * z.shape[2]))
            for start in range(0, z.shape[1], rows):
                block = slice(start, start + rows)
                self._activate(
                    z[:, block],
                    views.biases[index],
                    below[:, block],
                    None if slope is None else slope[:, block],
                    b.work[index][:, block],
                )
        return b

    def _activate(
        self,
        z: np.ndarray,
        bias: np.ndarray,
        a: np.ndarray,
        slope: np.ndarray | None,
        work: np.ndarray,
    ) -> None:
        """``z += bias``, ``a = f(z)`` and, unless ``slope`` is None, ``slope = f'(z)``."""
        z += bias
        self.hidden.forward(z, a, work)
        if slope is not None:
            self.hidden.derivative(z, a, slope, work)
