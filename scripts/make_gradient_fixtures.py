"""Write tests/fixtures/gradients.npz: losses and gradients from PyTorch autograd.

Each case is a small float64 network (every hidden activation, every output/loss head and
the course's networks) whose weights come from a seeded flat parameter row in our Keras
layout (W is (in, out); torch's Linear.weight is its transpose). Torch computes the loss
with its own nn modules and the gradient with autograd; the test
tests/engine/test_mlp.py::test_matches_torch_autograd compares ours to them.

Run from the repository root (needs torch; the tests do not):
    python scripts/make_gradient_fixtures.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "gradients.npz"

ACTIVATIONS = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "swish": nn.SiLU,
    "softplus": nn.Softplus,
}

# name: (layers, hidden, output, loss, input scale, targets)
CASES: dict[str, tuple[list[int], str, str, str, float, str]] = {
    **{
        f"hidden_{name}": ([3, 5, 4, 2], name, "linear", "mse", 1.5, "values")
        for name in ACTIVATIONS
    },
    # inputs large enough that some pre-activations pass softplus's threshold of 20
    "hidden_softplus_wide": ([3, 6, 2], "softplus", "linear", "mse", 20.0, "values"),
    "head_linear_mse": ([3, 4, 2], "tanh", "linear", "mse", 1.0, "values"),
    "head_linear_mae": ([3, 4, 2], "tanh", "linear", "mae", 1.0, "values"),
    "head_linear_huber": ([3, 4, 2], "tanh", "linear", "huber", 1.0, "wide_values"),
    "head_sigmoid_bce": ([3, 4, 2], "tanh", "sigmoid", "binary_cross_entropy", 1.0, "binary"),
    "head_sigmoid_bce_soft": ([3, 4, 1], "relu", "sigmoid", "binary_cross_entropy", 1.0, "probs"),
    "head_sigmoid_mse": ([3, 4, 2], "tanh", "sigmoid", "mse", 1.0, "binary"),
    "head_sigmoid_mae": ([3, 4, 2], "tanh", "sigmoid", "mae", 1.0, "binary"),
    "head_sigmoid_huber": ([3, 4, 2], "tanh", "sigmoid", "huber", 1.0, "binary"),
    "head_softmax_ce": ([3, 4, 3], "tanh", "softmax", "cross_entropy", 1.0, "one_hot"),
    "head_softmax_ce_soft": ([3, 4, 4], "elu", "softmax", "cross_entropy", 1.0, "distribution"),
    "course_131_sigmoid_mae": ([1, 3, 1], "sigmoid", "sigmoid", "mae", 1.0, "binary"),
    "course_483_selu_ce": ([4, 8, 3], "selu", "softmax", "cross_entropy", 1.0, "one_hot"),
    "deep_selu_ce": ([6, 9, 7, 5, 4], "selu", "softmax", "cross_entropy", 1.0, "one_hot"),
}
BATCH = 9


def make_targets(kind: str, rng: np.random.Generator, batch: int, width: int) -> np.ndarray:
    if kind == "values":
        return rng.normal(size=(batch, width))
    if kind == "wide_values":  # residuals on both sides of Huber's delta = 1
        return rng.normal(scale=3.0, size=(batch, width))
    if kind == "binary":
        return rng.integers(0, 2, size=(batch, width)).astype(np.float64)
    if kind == "probs":
        return rng.uniform(size=(batch, width))
    if kind == "one_hot":
        return np.eye(width)[rng.integers(0, width, size=batch)]
    if kind == "distribution":
        raw = rng.uniform(size=(batch, width))
        return raw / raw.sum(axis=1, keepdims=True)
    raise ValueError(kind)


def torch_case(
    layers: list[int], hidden: str, output: str, loss: str, row: np.ndarray, x, y
) -> tuple[float, np.ndarray]:
    modules: list[nn.Module] = []
    linears: list[nn.Linear] = []
    offset = 0
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(layers)):
        linear = nn.Linear(fan_in, fan_out, dtype=torch.float64)
        weight = row[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
        offset += fan_in * fan_out
        bias = row[offset : offset + fan_out]
        offset += fan_out
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias.copy()))
        modules.append(linear)
        linears.append(linear)
        if index < len(layers) - 2:
            modules.append(ACTIVATIONS[hidden]())
    if output == "sigmoid" and loss != "binary_cross_entropy":
        modules.append(nn.Sigmoid())
    model = nn.Sequential(*modules)
    criterion = {
        "mse": nn.MSELoss(),
        "mae": nn.L1Loss(),
        "huber": nn.HuberLoss(delta=1.0),
        "binary_cross_entropy": nn.BCEWithLogitsLoss(),
        "cross_entropy": nn.CrossEntropyLoss(),
    }[loss]
    value = criterion(model(torch.from_numpy(x)), torch.from_numpy(y))
    value.backward()
    grad = np.concatenate(
        [
            part
            for linear in linears
            for part in (linear.weight.grad.numpy().T.reshape(-1), linear.bias.grad.numpy())
        ]
    )
    return float(value.item()), grad


def main() -> int:
    torch.manual_seed(0)
    arrays: dict[str, np.ndarray] = {}
    for number, (name, (layers, hidden, output, loss, scale, targets)) in enumerate(CASES.items()):
        rng = np.random.default_rng(1000 + number)
        n_params = sum(a * b + b for a, b in itertools.pairwise(layers))
        row = rng.normal(scale=0.8, size=n_params)
        x = rng.normal(scale=scale, size=(BATCH, layers[0]))
        y = make_targets(targets, rng, BATCH, layers[-1])
        value, grad = torch_case(layers, hidden, output, loss, row, x, y)
        arrays[f"{name}__spec"] = np.array([",".join(map(str, layers)), hidden, output, loss])
        arrays[f"{name}__params"] = row
        arrays[f"{name}__x"] = x
        arrays[f"{name}__y"] = y
        arrays[f"{name}__loss"] = np.array(value)
        arrays[f"{name}__grad"] = grad
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(CASES)} cases to {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
