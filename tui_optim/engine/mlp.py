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

import numpy as np

from tui_optim.engine.activations import Activation, get_activation
from tui_optim.engine.losses import Head, make_head

MAX_UNITS = 4096  # per layer: a 1e6-unit layer would need terabytes for a few racers
MAX_PARAMS = 5_000_000


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
    """Forward/backward scratch space for one (R, B) shape."""

    def __init__(self, mlp: MLP, racers: int, batch: int):
        dtype = mlp.dtype
        self.z = [np.empty((racers, batch, s.fan_out), dtype) for s in mlp.layers]
        self.a = [np.empty((racers, batch, s.fan_out), dtype) for s in mlp.layers]
        self.delta = [np.empty((racers, batch, s.fan_out), dtype) for s in mlp.layers]
        self.slope = [np.empty((racers, batch, s.fan_out), dtype) for s in mlp.layers[:-1]]


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

    # ------------------------------------------------------------------ compute
    def forward(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Output activations (R, B, out) for inputs ``x`` (B, in); a fresh array."""
        return self.loss_and_outputs(params, x, np.zeros((x.shape[0], self.sizes[-1])))[1]

    def loss_and_outputs(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Loss per racer (R,) and output activations (R, B, out), fresh arrays."""
        z = self._forward(params, x).z[-1]
        outputs = np.empty_like(z)
        losses = self.head.value_and_delta(z, y.astype(self.dtype), outputs, np.empty_like(z))
        return losses, outputs

    def loss(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Loss per racer (R,) on ``x`` (B, in) and targets ``y`` (B, out)."""
        buffers = self._forward(params, x)
        last = len(self.layers) - 1
        return self.head.value_and_delta(buffers.z[-1], y, buffers.a[last], buffers.delta[last])

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray, grad_out: np.ndarray
    ) -> np.ndarray:
        """Loss per racer (R,); the gradient of each racer's mean loss goes into ``grad_out``."""
        buffers = self._forward(params, x)
        last = len(self.layers) - 1
        losses = self.head.value_and_delta(buffers.z[last], y, buffers.a[last], buffers.delta[last])
        weights = self.views(params)
        grads = self.views(grad_out)
        for index in range(last, -1, -1):
            delta = buffers.delta[index]
            grad_w, grad_b = grads[index]
            below = x if index == 0 else buffers.a[index - 1]
            np.matmul(np.swapaxes(below, -1, -2), delta, out=grad_w)
            np.sum(delta, axis=1, keepdims=True, out=grad_b)
            if index:
                previous = buffers.delta[index - 1]
                np.matmul(delta, np.swapaxes(weights[index][0], 1, 2), out=previous)
                slope = buffers.slope[index - 1]
                self.hidden.derivative(buffers.z[index - 1], buffers.a[index - 1], slope)
                previous *= slope
        return losses

    def _forward(self, params: np.ndarray, x: np.ndarray) -> _Buffers:
        buffers = self._buffers_for(params.shape[0], x.shape[0])
        below = x
        last = len(self.layers) - 1
        for index, (weight, bias) in enumerate(self.views(params)):
            z = buffers.z[index]
            np.matmul(below, weight, out=z)
            z += bias
            if index < last:
                self.hidden.forward(z, buffers.a[index])
                below = buffers.a[index]
        return buffers
