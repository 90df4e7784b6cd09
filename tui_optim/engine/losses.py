"""Output heads fused with their losses.

A *head* is the output activation and the loss together: ``value_and_delta`` takes the
output layer's pre-activation ``z`` (R, B, out) and targets ``y`` (B, out), writes the
output activation into ``a``, the gradient of the loss with respect to ``z`` into
``delta``, and returns the loss per racer (R,). Fusing them is what keeps softmax with
cross-entropy and sigmoid with binary cross-entropy numerically stable: the gradient is
``(p - y) / n`` without ever dividing by a probability.

Every loss is a mean: over the batch (cross-entropy, which sums over classes per example)
or over batch and outputs (mse, mae, huber, binary cross-entropy), as torch's and Keras's
defaults are. MAE's gradient at a zero residual is 0, as in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_optim.engine.activations import _sigmoid
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


def _residual_loss(kind: str, r: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Loss per racer of residuals ``r`` (R, B, out); ``delta`` gets dLoss/d(output)."""
    n = r.shape[1] * r.shape[2]
    if kind == "mse":
        np.multiply(r, 2.0 / n, out=delta)
        return np.einsum("rbo,rbo->r", r, r) / n
    if kind == "mae":
        np.sign(r, out=delta)
        delta *= 1.0 / n
        return np.abs(r).sum(axis=(1, 2)) / n
    # huber
    np.clip(r, -HUBER_DELTA, HUBER_DELTA, out=delta)
    absr = np.abs(r)
    quad = np.minimum(absr, HUBER_DELTA)
    values = quad * (absr - 0.5 * quad)
    delta *= 1.0 / n
    return values.sum(axis=(1, 2)) / n


@dataclass(frozen=True)
class Head:
    """An output activation fused with a loss."""

    output: str
    loss: str

    def value_and_delta(
        self, z: np.ndarray, y: np.ndarray, a: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        """Write activations into ``a``, dLoss/dz into ``delta``; return loss per racer."""
        if self.output == "softmax":
            np.subtract(z, z.max(axis=2, keepdims=True), out=a)
            np.exp(a, out=a)
            total = a.sum(axis=2, keepdims=True)
            a /= total
            batch = z.shape[1]
            # log softmax = z - max - log(sum exp(z - max)); CE = -sum y * log softmax
            log_norm = z.max(axis=2) + np.log(total[..., 0])
            losses = (np.einsum("bo->b", y) * log_norm).sum(axis=1) - np.einsum("rbo,bo->r", z, y)
            np.subtract(a, y, out=delta)
            delta *= 1.0 / batch
            return losses / batch
        if self.output == "sigmoid" and self.loss == "binary_cross_entropy":
            _sigmoid(z, a)
            n = z.shape[1] * z.shape[2]
            # max(z, 0) - y z + log(1 + exp(-|z|)) is BCE-with-logits, stable for any z
            values = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
            np.subtract(a, y, out=delta)
            delta *= 1.0 / n
            return values.sum(axis=(1, 2)) / n
        if self.output == "sigmoid":
            _sigmoid(z, a)
            losses = _residual_loss(self.loss, a - y, delta)
            delta *= a * (1.0 - a)
            return losses
        np.copyto(a, z)
        return _residual_loss(self.loss, z - y, delta)


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
