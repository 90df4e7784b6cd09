"""A plain, readable MLP: the oracle the fast engine (plans, row blocks, fused heads,
lockstep batches) is checked against. One racer, a list of (W, b) pairs in the Keras layout
(W is (fan_in, fan_out)), textbook forward and backward passes, torch.nn's loss means."""

from __future__ import annotations

import itertools

import numpy as np

HIDDEN = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}


def unflatten(row: np.ndarray, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a flat parameter row into [(W1, b1), (W2, b2), ...] (W1 first, then b1 ...)."""
    layers, offset = [], 0
    for fan_in, fan_out in itertools.pairwise(sizes):
        w = row[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
        offset += fan_in * fan_out
        layers.append((w, row[offset : offset + fan_out]))
        offset += fan_out
    return layers


def output_and_loss(z: np.ndarray, y: np.ndarray, output: str, loss: str):
    """The output activation, the mean loss and dLoss/dz for the output layer."""
    n = z.shape[0]
    if output == "softmax":  # with cross-entropy: sum over classes, mean over examples
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p, -(y * np.log(p)).sum() / n, (p - y) / n
    a = 1 / (1 + np.exp(-z)) if output == "sigmoid" else z
    slope = a * (1 - a) if output == "sigmoid" else np.ones_like(z)
    if loss == "binary_cross_entropy":
        return a, -(y * np.log(a) + (1 - y) * np.log(1 - a)).mean(), (a - y) / y.size
    if loss == "mse":
        return a, ((a - y) ** 2).mean(), 2 * (a - y) / y.size * slope
    return a, np.abs(a - y).mean(), np.sign(a - y) / y.size * slope  # mae


def loss_and_grad(row, sizes, hidden, output, loss, x, y) -> tuple[float, np.ndarray]:
    """The loss of one racer on (x, y) and its gradient as a flat row."""
    layers = unflatten(row, sizes)
    act, act_slope = HIDDEN[hidden]
    inputs, zs, a = [], [], x
    for i, (w, b) in enumerate(layers):
        inputs.append(a)
        z = a @ w + b
        zs.append(z)
        a = act(z) if i < len(layers) - 1 else z
    _, value, delta = output_and_loss(zs[-1], y, output, loss)
    grads = []
    for i in reversed(range(len(layers))):
        grads.append((inputs[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ layers[i][0].T) * act_slope(zs[i - 1], inputs[i])
    flat = [part.reshape(-1) for gw, gb in reversed(grads) for part in (gw, gb)]
    return float(value), np.concatenate(flat)
