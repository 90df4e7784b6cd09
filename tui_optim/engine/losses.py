"""Output heads fused with their losses.

A *head* is the output activation and the loss together: ``value_and_delta`` takes the
output layer's pre-activation ``z`` (R, B, out) and targets ``y`` (B, out), writes the
output activation into ``a``, the gradient of the loss with respect to ``z`` into
``delta``, and returns the loss per racer (R,). Fusing them is what keeps softmax with
cross-entropy and sigmoid with binary cross-entropy numerically stable: the gradient is
``(p - y) / n`` without ever dividing by a probability.

Every loss is a mean, with torch.nn's definitions: ``MSELoss``, ``L1Loss`` (mae),
``HuberLoss(delta=1)`` and ``BCEWithLogitsLoss`` average over batch and outputs;
``CrossEntropyLoss`` with probability (or one-hot) targets sums ``-y log p`` over classes
and averages over the batch. MAE's gradient at a zero residual is 0, as in torch and Keras.

Per-racer sums are matrix products with a ones vector: on the small arrays of a training
step NumPy's axis reductions cost several times more than a BLAS call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tui_optim.engine.activations import sigmoid
from tui_optim.engine.errors import UnknownNameError, unknown

OUTPUTS = ("linear", "sigmoid", "softmax")
LOSSES = ("mse", "mae", "huber", "binary_cross_entropy", "cross_entropy")
HUBER_DELTA = 1.0  # torch.nn.HuberLoss's default

#: Which losses make sense after which output activation.
VALID_LOSSES: dict[str, tuple[str, ...]] = {
    "linear": ("mse", "mae", "huber"),
    "sigmoid": ("binary_cross_entropy", "mse", "mae", "huber"),
    "softmax": ("cross_entropy",),
}


class HeadError(ValueError):
    """An output/loss combination that does not make sense."""


#: ``np.dot`` called as the ndarray method, which skips ``np.dot``'s ``__array_function__``
#: dispatch: 0.17 us less per call, and a training step of a small network makes ten.
dot = np.ndarray.dot


@lru_cache(maxsize=64)
def ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones, shared: sums as ``x @ ones(n)``."""
    vector = np.ones(n, dtype=dtype)
    vector.flags.writeable = False
    return vector


def per_racer_sum(values: np.ndarray) -> np.ndarray:
    """Sum of a contiguous (R, B, out) array over batch and outputs, as (R,)."""
    flat = values.reshape(values.shape[0], -1)
    return np.matmul(flat, ones(flat.shape[1], values.dtype))


def _row_max(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Max over the last axis of ``z`` (..., k) into ``out`` (...)."""
    k = z.shape[-1]
    # A reduction along a short last axis pays per row (digits full batch, 1437 x 10: 58 us
    # in float64, 121 us in float32), k - 1 pairwise maxima of columns pay per column
    # (13 and 18 us there); the reduction wins only on few rows or many columns.
    if k > 8 and (k > 64 or z.size < 8 * k * k):
        return np.maximum.reduce(z, axis=-1, out=out)
    if k == 1:
        np.copyto(out, z[..., 0])
        return out
    np.maximum(z[..., 0], z[..., 1], out=out)
    for column in range(2, k):
        np.maximum(out, z[..., column], out=out)
    return out


def _residual_loss(kind: str, r: np.ndarray, delta: np.ndarray, n: int) -> np.ndarray:
    """Loss per racer of residuals ``r`` (R, B, out); ``delta`` gets dLoss/d(output).

    ``r`` is scratch: it is overwritten.
    """
    if kind == "mse":
        np.multiply(r, 2.0 / n, out=delta)
        flat = r.reshape(r.shape[0], -1)
        return np.vecdot(flat, flat) / n
    if kind == "mae":
        np.sign(r, out=delta)
        delta *= 1.0 / n
        np.abs(r, out=r)
        return per_racer_sum(r) / n
    return _huber(r, delta, n)


def _huber(r: np.ndarray, delta: np.ndarray, n: int) -> np.ndarray:
    """Huber loss per racer (delta = 1) of residuals ``r``, overwritten; dLoss/dr to ``delta``."""
    np.clip(r, -HUBER_DELTA, HUBER_DELTA, out=delta)  # dLoss/dr before the 1/n
    absr = np.abs(r, out=r)
    quad = np.minimum(absr, HUBER_DELTA)
    # inside: 0.5 r^2 = quad * (|r| - quad / 2); outside: delta * (|r| - delta / 2), the same
    quad *= 0.5
    np.subtract(absr, quad, out=absr)
    quad *= 2.0
    absr *= quad
    delta *= 1.0 / n
    return per_racer_sum(absr) / n


@dataclass(frozen=True)
class Head:
    """An output activation fused with a loss."""

    output: str
    loss: str

    def activate(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Output activations of ``z`` (R, B, out) into ``out``."""
        if self.output == "softmax":
            peak = _row_max(z, np.empty(z.shape[:2], z.dtype))
            np.subtract(z, peak[..., None], out=out)
            np.exp(out, out=out)
            out /= np.matmul(out, ones(z.shape[2], z.dtype))[..., None]
        elif self.output == "sigmoid":
            sigmoid(z, out)
        else:
            np.copyto(out, z)
        return out

    def value(
        self,
        z: np.ndarray,
        y: np.ndarray,
        a: np.ndarray,
        scratch: np.ndarray,
        scratch_more: np.ndarray,
        row_scratch: np.ndarray | None = None,
    ) -> np.ndarray:
        """The loss per racer alone, in the same arithmetic (the same bits) as
        :meth:`value_and_delta`'s, for an evaluation, which needs no gradient: softmax skips
        its normalisation and its delta. ``a``, ``scratch`` and ``scratch_more`` (like ``z``)
        are work space: ``a`` holds the output activation except after a softmax, where it
        holds ``exp(z - max z)`` (the same order along each row)."""
        if self.output == "softmax":
            return self._softmax_cross_entropy(z, y, a, scratch, row_scratch, with_delta=False)
        return self.value_and_delta(z, y, a, scratch, scratch_more, row_scratch)

    def value_and_delta(
        self,
        z: np.ndarray,
        y: np.ndarray,
        a: np.ndarray,
        delta: np.ndarray,
        scratch: np.ndarray | None = None,
        row_scratch: np.ndarray | None = None,
    ) -> np.ndarray:
        """Write activations into ``a``, dLoss/dz into ``delta``; return loss per racer.

        ``scratch`` (like ``z``) and ``row_scratch`` (R, B) are optional preallocated work
        space; ``z`` is left unchanged.
        """
        if scratch is None:
            scratch = np.empty_like(z)
        if self.output == "softmax":
            return self._softmax_cross_entropy(z, y, a, delta, row_scratch)
        n = z.shape[1] * z.shape[2]
        if self.loss == "binary_cross_entropy":
            return self._binary_cross_entropy(z, y, a, delta, scratch, n)
        if self.output == "sigmoid":
            sigmoid(z, a)
            np.subtract(a, y, out=scratch)
            losses = _residual_loss(self.loss, scratch, delta, n)
            np.subtract(1.0, a, out=scratch)  # chain rule through the sigmoid: a (1 - a)
            scratch *= a
            delta *= scratch
            return losses
        np.copyto(a, z)
        np.subtract(z, y, out=scratch)
        return _residual_loss(self.loss, scratch, delta, n)

    @staticmethod
    def _softmax_cross_entropy(
        z: np.ndarray,
        y: np.ndarray,
        a: np.ndarray,
        delta: np.ndarray,
        rows: np.ndarray | None,
        with_delta: bool = True,
    ) -> np.ndarray:
        racers, batch, width = z.shape
        if rows is None:
            rows = np.empty((racers, batch), z.dtype)
        if racers == 1:
            # one racer works on 2-D views: dot costs half of matmul's batched loop there
            z, a, delta, rows = z[0], a[0], delta[0], rows[0]
        product = dot if racers == 1 else np.matmul
        unit = ones(width, z.dtype)
        peak = _row_max(z, rows)
        shifted = np.subtract(z, peak[..., None], out=delta)  # delta is scratch till the end
        np.exp(shifted, out=a)
        total = product(a, unit)
        if with_delta:
            a /= total[..., None]
        # CE = sum_o y (lse - z) with lse - z = log(total) - (z - max): total >= 1 (it holds
        # exp(0) = 1) and z - max <= 0 after rounding too, so every term is >= 0 and so is
        # the loss, where sum(y lse) - sum(y z) could cancel to a tiny negative loss.
        np.log(total, out=total)
        np.subtract(total[..., None], shifted, out=delta)
        flat_y = y.reshape(-1)
        flat_terms = delta.reshape(*delta.shape[:-2], -1)
        # one racer's sum is a scalar: out= gives it the (1,) shape of R racers' losses
        losses = np.empty(racers, z.dtype)
        np.multiply(product(flat_terms, flat_y), 1.0 / batch, out=losses)
        if not with_delta:
            return losses
        y_mass = dot(y, unit)  # 1 per example for one-hot targets
        np.multiply(a, y_mass[:, None], out=delta)
        delta -= y
        delta *= 1.0 / batch
        return losses

    @staticmethod
    def _binary_cross_entropy(
        z: np.ndarray, y: np.ndarray, a: np.ndarray, delta: np.ndarray, e: np.ndarray, n: int
    ) -> np.ndarray:
        # With e = exp(-|z|) (never overflows): BCE = max(z, 0) - y z + log1p(e) and
        # sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) for z < 0.
        np.abs(z, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.add(e, 1.0, out=a)
        np.reciprocal(a, out=a)
        np.multiply(a, e, out=a, where=z < 0.0)
        np.log1p(e, out=e)
        e += np.maximum(z, 0.0)
        # y z <= max(z, 0) for 0 <= y <= 1, also after rounding: each term stays >= 0, where
        # sum(e) - sum(y z) could cancel to a tiny negative loss (delta is written last)
        np.multiply(z, y, out=delta)
        e -= delta
        losses = per_racer_sum(e)
        np.subtract(a, y, out=delta)
        delta *= 1.0 / n
        return losses / n


def make_head(output: str, loss: str) -> Head:
    """Check the output/loss pair and return the fused head."""
    if output not in OUTPUTS:
        raise UnknownNameError(unknown("output", output, OUTPUTS))
    if loss not in LOSSES:
        raise UnknownNameError(unknown("loss", loss, LOSSES))
    if loss not in VALID_LOSSES[output]:
        raise HeadError(
            f"loss {loss!r} does not fit a {output} output; "
            f"use one of: {', '.join(VALID_LOSSES[output])}"
        )
    return Head(output, loss)
