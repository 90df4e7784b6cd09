"""Write tests/fixtures/optimizer_parity.npz: torch.optim trajectories on a real MLP problem.

A 4-4-3 tanh/softmax network is trained full batch with cross-entropy on 15 standardised
iris rows (every 10th row: 5 per class) for STEPS steps by each torch.optim configuration
below, in float64 with the single-tensor code path (foreach=False). For each case the file
holds the flat parameters before and after every step ("<case>/params", (STEPS + 1, P), our
Keras layout: W1 (in, out), b1, W2, b2) and torch's gradients at every step
("<case>/grads", (STEPS, P)). "cases" is a JSON list saying, per case, which of our
optimizers and hyperparameters must reproduce it, and the torch call that produced it.
"schedules" lists our schedule specs; "schedule<i>" is the lr torch's matching
lr_scheduler gives at steps 1, 2, ... with base lr 1.

tests/engine/test_optimizer_parity.py replays the cases with our MLP's gradients and with
torch's stored gradients, and requires <= 1e-12 relative error at every step.

Run from the repository root (needs torch; the tests do not):
    python scripts/make_optimizer_fixtures.py
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_iris
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "optimizer_parity.npz"
LAYERS = [4, 4, 3]
STEPS = 100
SEED = 7

# case: (our optimizer, our hyperparameters, torch class, torch keyword arguments)
CASES: dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]] = {
    "sgd": ("sgd", {"lr": 0.2}, "SGD", {"lr": 0.2}),
    "sgd_momentum_dampening_wd": (
        "sgd",
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3},
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3},
    ),
    "sgd_nesterov": (
        "sgd",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    ),
    "adagrad": (
        "adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 1e-3},
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 1e-3},
    ),
    "adadelta": ("adadelta", {"weight_decay": 1e-3}, "Adadelta", {"weight_decay": 1e-3}),
    "rmsprop": ("rmsprop", {"lr": 0.01}, "RMSprop", {"lr": 0.01}),
    "rmsprop_centered_momentum_wd": (
        "rmsprop",
        {"lr": 0.005, "rho": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 1e-3},
        "RMSprop",
        {"lr": 0.005, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 1e-3},
    ),
    "rprop": (
        "rprop",
        {"lr": 0.01, "etas": [0.5, 1.1], "step_sizes": [1e-6, 0.05]},
        "Rprop",
        {"lr": 0.01, "etas": (0.5, 1.1), "step_sizes": (1e-6, 0.05)},
    ),
    "adam": ("adam", {"lr": 0.01}, "Adam", {"lr": 0.01}),
    "adam_wd": (
        "adam",
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "weight_decay": 1e-2},
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 1e-2},
    ),
    "amsgrad": ("amsgrad", {"lr": 0.01}, "Adam", {"lr": 0.01, "amsgrad": True}),
    "adamw_amsgrad": (
        "adamw",
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
        "AdamW",
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    ),
    "adamax": ("adamax", {"weight_decay": 1e-3}, "Adamax", {"weight_decay": 1e-3}),
    "nadam": ("nadam", {"lr": 0.01}, "NAdam", {"lr": 0.01}),
    "nadam_decoupled_wd": (
        "nadam",
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        "NAdam",
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    "radam": (
        "radam",
        {"lr": 0.01, "weight_decay": 1e-3},
        "RAdam",
        {"lr": 0.01, "weight_decay": 1e-3},
    ),
    "radam_decoupled_wd": (
        "radam",
        {"lr": 0.01, "betas": [0.9, 0.99], "weight_decay": 0.1, "decoupled_weight_decay": True},
        "RAdam",
        {"lr": 0.01, "betas": (0.9, 0.99), "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
}


# schedule spec (ours): (torch lr_scheduler class, kwargs, steps compared)
SCHEDULES: dict[str, tuple[str, dict[str, Any], int]] = {
    "step:step_size=7,gamma=0.5": ("StepLR", {"step_size": 7, "gamma": 0.5}, 60),
    "exponential:gamma=0.97": ("ExponentialLR", {"gamma": 0.97}, 60),
    # torch's cosine rises again after T_max; ours holds at eta_min, so compare up to T_max.
    "cosine:total_steps=40,eta_min=0.05": (
        "CosineAnnealingLR",
        {"T_max": 40, "eta_min": 0.05},
        41,
    ),
    "warmup:warmup_steps=10": (
        "LinearLR",
        {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 9},
        60,
    ),
}


def schedule_factors(cls: str, kwargs: dict[str, Any], steps: int) -> np.ndarray:
    """The lr torch uses at optimizer steps 1..steps with base lr 1 (scheduler stepped after
    every optimizer step)."""
    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    scheduler = getattr(torch.optim.lr_scheduler, cls)(optimizer, **kwargs)
    factors = []
    for _ in range(steps):
        factors.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(factors)


def iris_problem(layers: list[int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (15, 4) standardised (every 10th iris row: 5 per class), one-hot targets
    (15, 3), and initial flat params (P,) for ``layers`` in our layout: Glorot-uniform
    weights, biases uniform in +-0.1, from ``seed``."""
    iris = load_iris()
    rows = np.arange(0, 150, 10)
    x = iris.data[rows].astype(np.float64)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = np.eye(3)[iris.target[rows]]
    rng = np.random.default_rng(seed)
    parts = []
    for fan_in, fan_out in itertools.pairwise(layers):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        parts += [rng.uniform(-limit, limit, fan_in * fan_out), rng.uniform(-0.1, 0.1, fan_out)]
    return x, y, np.concatenate(parts)


def problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This fixture's problem: :func:`iris_problem` for LAYERS and SEED."""
    return iris_problem(LAYERS, SEED)


def to_torch(flat: np.ndarray) -> list[nn.Linear]:
    linears, offset = [], 0
    for fan_in, fan_out in itertools.pairwise(LAYERS):
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            w = flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
            offset += fan_in * fan_out
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(flat[offset : offset + fan_out]))
            offset += fan_out
        linears.append(linear)
    return linears


def flatten(linears: list[nn.Linear], attr: str) -> np.ndarray:
    parts = []
    for linear in linears:
        weight = getattr(linear.weight, attr) if attr else linear.weight
        bias = getattr(linear.bias, attr) if attr else linear.bias
        parts += [weight.detach().numpy().T.ravel(), bias.detach().numpy().ravel()]
    return np.concatenate(parts)


def run(x: np.ndarray, y: np.ndarray, init: np.ndarray, cls: str, kwargs: dict[str, Any]):
    linears = to_torch(init)
    params = [p for linear in linears for p in (linear.weight, linear.bias)]
    optimizer = getattr(torch.optim, cls)(params, foreach=False, **kwargs)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1))
    loss_fn = nn.CrossEntropyLoss()
    trajectory, grads = [flatten(linears, "")], []
    for _ in range(STEPS):
        optimizer.zero_grad()
        logits = linears[1](torch.tanh(linears[0](inputs)))
        loss_fn(logits, labels).backward()
        grads.append(flatten(linears, "grad"))
        optimizer.step()
        trajectory.append(flatten(linears, ""))
    return np.array(trajectory), np.array(grads)


def main() -> None:
    torch.set_default_dtype(torch.float64)  # also makes torch's step counters float64
    torch.set_num_threads(1)
    x, y, init = problem()
    arrays: dict[str, np.ndarray] = {"x": x, "y": y, "init": init, "layers": np.array(LAYERS)}
    cases = []
    for case, (ours, hparams, cls, kwargs) in CASES.items():
        trajectory, grads = run(x, y, init, cls, kwargs)
        arrays[f"{case}/params"] = trajectory
        arrays[f"{case}/grads"] = grads
        torch_call = f"torch.optim.{cls}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        cases.append({"case": case, "optimizer": ours, "hparams": hparams, "torch": torch_call})
    arrays["cases"] = np.array(json.dumps(cases))
    for index, (cls, kwargs, steps) in enumerate(SCHEDULES.values()):
        arrays[f"schedule{index}"] = schedule_factors(cls, kwargs, steps)
    arrays["schedules"] = np.array(json.dumps(list(SCHEDULES)))
    arrays["torch_version"] = np.array(torch.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
