"""A dense multilayer perceptron for R racers at once, on flat parameter rows.

Each racer's parameters are one row of an (R, P) array laid out as Keras does:
``W1`` (in, out) row-major, ``b1``, ``W2``, ``b2`` ... Per-layer views into a row block are
plain NumPy views, so optimizers update the whole vector with a few in-place operations and
forward/backward run once for all racers with batched matmul: ``(B, in) @ (R, in, out)``.
Activation and gradient buffers are preallocated per (R, B) and reused every step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tui_optim.engine.activations import Activation, get_activation
from tui_optim.engine.losses import Head, dot, make_head

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


class _Layer(NamedTuple):
    """One dense layer's arrays for one (params, grads, batch): all views, resolved once.

    With one racer whose rows are contiguous the arrays are 2-D, for ``dot``; otherwise
    they keep the racer axis, for ``np.matmul``.
    """

    weight: np.ndarray  # (in, out) or (R, in, out)
    weight_t: np.ndarray  # (out, in) or (R, out, in), for backward
    bias: np.ndarray  # (out,) or (R, 1, out)
    z: np.ndarray  # (B, out) or (R, B, out), like a and delta
    a: np.ndarray
    a_t: np.ndarray  # a transposed, for the next layer's weight gradient
    delta: np.ndarray
    slope: np.ndarray | None  # hidden layers with a non-linear activation only
    #: Hidden layers: (z, a, slope, work) row blocks that are activated one at a time.
    blocks: tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray], ...]
    grad_weight: np.ndarray | None  # like weight; None for a plain loss
    grad_bias: np.ndarray | None  # (out,) or (R, out)


class _Plan(NamedTuple):
    """What a step on given parameter and gradient arrays touches, looked up once per call.

    Holding ``params`` and ``grads`` keeps their ids from being reused while cached.
    """

    params: np.ndarray
    grads: np.ndarray | None
    buffers: _Buffers
    layers: tuple[_Layer, ...]
    single: bool  # one racer on 2-D views

    @property
    def product(self) -> Callable[..., np.ndarray]:
        """The layers' matrix product: ``dot`` on one racer's 2-D views, else matmul."""
        return dot if self.single else np.matmul


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
        self._plans: dict[tuple[int, int, int], _Plan] = {}

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

    def _plan_for(self, params: np.ndarray, grads: np.ndarray | None, batch: int) -> _Plan:
        """The plan for these very arrays and batch size, cached: the race passes the same
        parameter and gradient arrays every step, so the views are made once."""
        key = (id(params), id(grads), batch)
        plan = self._plans.get(key)
        if plan is not None and plan.params is params and plan.grads is grads:
            return plan
        for flat in (params, grads):
            if flat is not None and (flat.ndim != 2 or flat.shape[1] != self.n_params):
                raise ModelError(
                    f"parameters must be (R, {self.n_params}) for {self!r}, got {flat.shape}"
                )
        racers = params.shape[0]
        if grads is not None and grads.shape[0] != racers:
            raise ModelError(f"gradients must be {params.shape}, got {grads.shape}")
        # dot on 2-D arrays is the fastest product, but wants a C-contiguous out=
        single = racers == 1 and all(
            flat is None or flat.strides[1] == flat.itemsize for flat in (params, grads)
        )
        buffers = self._buffers_for(racers, batch)
        layers = []
        for index, s in enumerate(self.layers):
            weight = params[:, s.weight].reshape(racers, s.fan_in, s.fan_out)
            bias = params[:, s.bias]
            grad_weight = grad_bias = None
            if grads is not None:
                grad_weight = grads[:, s.weight].reshape(racers, s.fan_in, s.fan_out)
                grad_bias = grads[:, s.bias]
            z, a, delta = buffers.z[index], buffers.a[index], buffers.delta[index]
            hidden = index < len(self.layers) - 1
            slope = work = None
            if hidden:
                work = buffers.work[index]
                slope = buffers.slope[index] if self.hidden.name != "linear" else None
            if single:
                weight, bias, z, a, delta = weight[0], bias[0], z[0], a[0], delta[0]
                if grad_weight is not None and grad_bias is not None:
                    grad_weight, grad_bias = grad_weight[0], grad_bias[0]
                if work is not None:
                    work = work[0]
                    slope = None if slope is None else slope[0]
            else:
                bias = bias.reshape(racers, 1, s.fan_out)
            blocks = () if work is None else self._row_blocks(z, a, slope, work)
            layers.append(
                _Layer(
                    weight,
                    np.swapaxes(weight, -1, -2),
                    bias,
                    z,
                    a,
                    np.swapaxes(a, -1, -2),
                    delta,
                    slope,
                    blocks,
                    grad_weight,
                    grad_bias,
                )
            )
        plan = _Plan(params, grads, buffers, tuple(layers), single)
        if len(self._plans) >= 16:  # fresh arrays every call must not pile up
            self._plans.clear()
        self._plans[key] = plan
        return plan

    @staticmethod
    def _row_blocks(
        z: np.ndarray, a: np.ndarray, slope: np.ndarray | None, work: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray], ...]:
        """A hidden layer's arrays cut into blocks of batch rows of about BLOCK_ELEMENTS."""
        if z.size <= 2 * BLOCK_ELEMENTS:
            return ((z, a, slope, work),)
        batch = z.shape[-2]
        rows = max(1, BLOCK_ELEMENTS // (z.size // batch))  # of every racer together
        blocks = []
        for start in range(0, batch, rows):
            cut = (Ellipsis, slice(start, start + rows), slice(None))
            blocks.append((z[cut], a[cut], None if slope is None else slope[cut], work[cut]))
        return tuple(blocks)

    # ------------------------------------------------------------------ compute
    def forward(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Output activations (R, B, out) for inputs ``x``; a fresh array.

        ``x`` is (B, in), shared by every racer, or (R, B, in), each racer its own inputs
        (a racer fed back its own predictions).
        """
        plan, _ = self._forward(params, None, x, slopes=False)
        z = plan.buffers.z[-1]
        return self.head.activate(z, np.empty_like(z))

    def loss_and_outputs(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Loss per racer (R,) and output activations (R, B, out), fresh arrays."""
        losses, buffers = self._loss(params, x, y)
        return losses, buffers.a[-1].copy()

    def loss(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Loss per racer (R,) on ``x`` (B, in) and targets ``y`` (B, out)."""
        return self.loss_and_scores(params, x, y)[0]

    def loss_and_scores(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Loss per racer (R,), a fresh array, and scores (R, B, out) whose largest entry in
        each row is the predicted class (the logits after a softmax: it preserves their
        order; the output activation otherwise), a view into buffers that the next call
        with this batch size overwrites. The loss alone, without its gradient: what an
        evaluation needs, in the bits :meth:`loss_and_grad` would give."""
        plan, _ = self._forward(params, None, x, slopes=False)
        b = plan.buffers
        y = self._as_array(y)
        losses = self.head.value(b.z[-1], y, b.a[-1], b.delta[-1], b.scratch, b.rows)
        softmax = self.head.output == "softmax" and b.z[-1].shape[2] > 1
        return losses, b.z[-1] if softmax else b.a[-1]

    def _loss(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, _Buffers]:
        plan, _ = self._forward(params, None, x, slopes=False)
        b = plan.buffers
        y = self._as_array(y)
        losses = self.head.value_and_delta(b.z[-1], y, b.a[-1], b.delta[-1], b.scratch, b.rows)
        return losses, b

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray, grad_out: np.ndarray
    ) -> np.ndarray:
        """Loss per racer (R,); the gradient of each racer's mean loss goes into ``grad_out``.

        ``params`` and ``grad_out`` are (R, P); ``x`` is (B, in) and ``y`` (B, out), shared by
        every racer. Passing the same array objects every step lets their views be reused.
        """
        plan, x = self._forward(params, grad_out, x, slopes=True)
        b = plan.buffers
        y = self._as_array(y)
        losses = self.head.value_and_delta(b.z[-1], y, b.a[-1], b.delta[-1], b.scratch, b.rows)
        product = plan.product
        ones = b.ones
        layers = plan.layers
        for index in range(len(layers) - 1, 0, -1):
            layer, below = layers[index], layers[index - 1]
            product(below.a_t, layer.delta, out=layer.grad_weight)
            product(ones, layer.delta, out=layer.grad_bias)
            previous = below.delta
            product(layer.delta, layer.weight_t, out=previous)
            if below.slope is not None:
                previous *= below.slope
        first = layers[0]
        product(x.swapaxes(-1, -2), first.delta, out=first.grad_weight)
        product(ones, first.delta, out=first.grad_bias)
        return losses

    def _as_array(self, values: np.ndarray) -> np.ndarray:
        if isinstance(values, np.ndarray) and values.dtype == self.dtype:
            return values
        return np.asarray(values, dtype=self.dtype)

    def _batch_of(self, x: np.ndarray, racers: int) -> int:
        """The batch size of inputs ``x``, which must be (B, in) or (racers, B, in)."""
        if x.shape[-1] != self.sizes[0] or not (
            x.ndim == 2 or (x.ndim == 3 and x.shape[0] == racers)
        ):
            raise ModelError(
                f"inputs must be (B, {self.sizes[0]}) or ({racers}, B, {self.sizes[0]}), "
                f"got {x.shape}"
            )
        return x.shape[-2]

    def _forward(
        self, params: np.ndarray, grads: np.ndarray | None, x: np.ndarray, slopes: bool
    ) -> tuple[_Plan, np.ndarray]:
        """Run the layers; the output layer's pre-activation ends in the plan's ``z[-1]``.

        With ``slopes``, each hidden layer's derivative goes into ``slope`` too, while its
        ``z`` and ``a`` are still in cache (backward needs it; a plain loss does not).
        Returns the plan and ``x`` as the layers saw it (2-D for one racer).
        """
        x = self._as_array(x)
        plan = self._plan_for(params, grads, self._batch_of(x, params.shape[0]))
        if plan.single and x.ndim == 3:
            x = x[0]
        product = plan.product
        forward = self.hidden.forward
        derivative = self.hidden.derivative
        below = x
        for layer in plan.layers[:-1]:
            product(below, layer.weight, out=layer.z)
            bias = layer.bias
            for z, a, slope, work in layer.blocks:
                z += bias
                forward(z, a, work)
                if slopes and slope is not None:
                    derivative(z, a, slope, work)
            below = layer.a
        last = plan.layers[-1]
        z = last.z
        product(below, last.weight, out=z)
        z += last.bias
        return plan, x
