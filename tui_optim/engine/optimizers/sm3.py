"""SM3, exactly as optax.sm3."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer, lr_param
from tui_optim.engine.optimizers.optax_common import update_moment

#: optax.sm3 passes this eps to scale_by_sm3 (inside the reciprocal square root).
EPS = 1e-8


class SM3(Optimizer):
    """SM3: Adagrad whose squared-gradient sums are kept per row and per column of each
    weight matrix (a bias keeps one per entry), so the memory is O(rows + columns).

    Update rule, for each weight matrix (entry i, j) and bias vector separately (row sums r,
    column sums c and the momentum m start at 0)::

        a_ij = g_ij^2 + min(r_i, c_j)            (a bias: a_i = g_i^2 + a_i)
        r_i = max_j a_ij ;  c_j = max_i a_ij
        m = momentum * m + (1 - momentum) * g / sqrt(a + 1e-8)      (0 where a is 0)
        w -= lr * m

    optax's default momentum 0.9 (SM3-II with optax's eps 1e-8); it has no default learning
    rate, 0.1 is ours. optax's spelling learning_rate is accepted.

    Reference: Anil et al., "Memory-efficient adaptive optimization", arXiv:1901.11150
    (NeurIPS 2019); optax.sm3 (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.sm3
    """

    name = "sm3"
    summary = "SM3: Adagrad with per-row/per-column accumulators, plus momentum (optax.sm3)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.1),
        HParam("momentum", 0.9, "decay of the momentum m", low=0.0, high=1.0, high_open=True),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "nu")
        #: Per tensor, its slice of the accumulators: rows then columns of a matrix, or one
        #: per entry of a vector.
        self._accumulators: list[slice] = []
        start = 0
        for tensor in self.tensors:
            size = sum(tensor.shape) if tensor.is_matrix else int(np.prod(tensor.shape))
            self._accumulators.append(slice(start, start + size))
            start += size
        self.state["mu"] = np.zeros((self.rows, start), dtype=self.dtype)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        mu, scaled = self.state["mu"], self._buffer("scaled")
        rows = self.rows
        for tensor, accumulators in zip(self.tensors, self._accumulators, strict=True):
            grad = grads[:, tensor.columns]
            memory = mu[:, accumulators]
            if tensor.is_matrix:
                fan_in, fan_out = tensor.shape
                grad = grad.reshape(rows, fan_in, fan_out)
                row_max, column_max = memory[:, :fan_in], memory[:, fan_in:]
                accum = grad * grad + np.minimum(row_max[:, :, None], column_max[:, None, :])
                row_max[...] = accum.max(axis=2)
                column_max[...] = accum.max(axis=1)
            else:
                accum = grad * grad + memory
                memory[...] = accum
            with np.errstate(divide="ignore"):
                inverse = np.where(accum > 0, 1 / np.sqrt(accum + EPS), 0.0)
            scaled[:, tensor.columns] = (grad * inverse).reshape(rows, -1)
        nu, work = self.state["nu"], self._buffer("work")
        update_moment(self, nu, scaled, "momentum", work)
        np.multiply(nu, self.lr, out=work)
        params -= work
