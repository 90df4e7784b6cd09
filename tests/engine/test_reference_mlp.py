"""The fast MLP against the plain reference (tests/engine/reference_mlp.py), and the
reference against finite differences, so either can be changed safely."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference_mlp import loss_and_grad

from tui_optim.engine.init import initial_params
from tui_optim.engine.mlp import MLP

CASES = [
    ([4, 5, 3, 2], "sigmoid", "sigmoid", "mse"),
    ([1, 3, 1], "sigmoid", "sigmoid", "mae"),
    ([4, 8, 3], "tanh", "softmax", "cross_entropy"),
    ([3, 7, 6, 1], "relu", "sigmoid", "binary_cross_entropy"),
    ([2, 16, 16, 1], "tanh", "linear", "mse"),
]


def data(sizes: list[int], output: str, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0]))
    if output == "softmax":
        return x, np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    if output == "sigmoid":
        return x, rng.integers(0, 2, size=(batch, sizes[-1])).astype(float)
    return x, rng.normal(size=(batch, sizes[-1]))


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), CASES)
@pytest.mark.parametrize("racers", [1, 3])
def test_the_fast_mlp_gives_the_reference_loss_and_gradient(
    sizes: list[int], hidden: str, output: str, loss: str, racers: int
) -> None:
    mlp = MLP(sizes, hidden=hidden, output=output, loss=loss)
    params = np.stack([initial_params(mlp, "glorot_uniform", seed=s) for s in range(racers)])
    params[:, :] += np.random.default_rng(1).normal(scale=0.1, size=params.shape)  # biases too
    x, y = data(sizes, output, batch=37, seed=2)
    grads = np.empty_like(params)
    losses = mlp.loss_and_grad(params, x, y, grads)
    for r in range(racers):
        value, grad = loss_and_grad(params[r], sizes, hidden, output, loss, x, y)
        assert losses[r] == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(grads[r], grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), CASES)
def test_the_reference_gradient_matches_finite_differences(
    sizes: list[int], hidden: str, output: str, loss: str
) -> None:
    rng = np.random.default_rng(3)
    n = sum(i * o + o for i, o in itertools.pairwise(sizes))
    row = rng.normal(scale=0.5, size=n)
    x, y = data(sizes, output, batch=9, seed=4)
    _, grad = loss_and_grad(row, sizes, hidden, output, loss, x, y)
    h = 1e-6
    for i in rng.choice(n, size=min(n, 12), replace=False):
        up, down = row.copy(), row.copy()
        up[i] += h
        down[i] -= h
        numeric = (
            loss_and_grad(up, sizes, hidden, output, loss, x, y)[0]
            - loss_and_grad(down, sizes, hidden, output, loss, x, y)[0]
        ) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
