"""Write tests/fixtures/torch_newer_parity.npz: trajectories of torch.optim 2.13's newer
optimizers (Adafactor, ASGD, LBFGS, Muon) and of Lookahead and SAM wrappers.

Same problem as scripts/make_optimizer_fixtures.py (a 4-4-3 tanh/softmax network, full
batch cross-entropy on 15 iris rows, float64, single-tensor code paths). Per case the file
holds "<case>/params" (steps + 1, P) in our Keras layout and "<case>/evals" (steps,), the
gradient evaluations each step made (torch's ``func_evals`` for LBFGS, 2 for SAM, else 1);
cases whose step takes only the gradient also hold torch's gradients "<case>/grads".
ASGD cases hold torch's final weight average "<case>/ax". "cases" is a JSON list: our
optimizer and racer keys, and the torch call.

torch has no Lookahead or SAM: the reference implementations below follow the common torch
ones (pytorch_optimizer's Lookahead; davda54/sam, https://github.com/davda54/sam). Muon
steps the weight matrices with torch.optim.Muon and the biases with torch.optim.AdamW at
the same lr, as torch's documentation advises.

tests/engine/test_torch_newer_parity.py replays them and requires <= 1e-12 relative error.

Run from the repository root (needs torch; the tests do not):
    python scripts/make_torch_newer_fixtures.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from make_optimizer_fixtures import LAYERS, flatten, problem, to_torch
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "torch_newer_parity.npz"
STEPS = 100
#: L-BFGS converges within a few steps here; near the optimum its gradients are so small
#: that rounding differences between two float64 implementations grow past 1e-12, so the
#: L-BFGS cases stop when their gradient is still far above tolerance_grad.
LBFGS_STEPS = 6

MUON_PLAIN = {
    "lr": 0.05,
    "momentum": 0.9,
    "nesterov": False,
    "weight_decay": 0.01,
    "adjust_lr_fn": "match_rms_adamw",
}

# case: (our optimizer, our racer keys, reference, reference keyword arguments, steps)
CASES: dict[str, tuple[str, dict[str, Any], str, dict[str, Any], int]] = {
    "adafactor": ("adafactor", {}, "Adafactor", {}, STEPS),
    "adafactor_wd_clip": (
        "adafactor",
        {"lr": 0.02, "beta2_decay": -0.5, "eps": [1e-20, 1e-2], "d": 1.5, "weight_decay": 0.01},
        "Adafactor",
        {"lr": 0.02, "beta2_decay": -0.5, "eps": (1e-20, 1e-2), "d": 1.5, "weight_decay": 0.01},
        STEPS,
    ),
    "asgd": ("asgd", {"lr": 0.1}, "ASGD", {"lr": 0.1}, STEPS),
    "asgd_averaging": (
        "asgd",
        {"lr": 0.05, "lambd": 1e-3, "alpha": 0.5, "t0": 20, "weight_decay": 1e-3},
        "ASGD",
        {"lr": 0.05, "lambd": 1e-3, "alpha": 0.5, "t0": 20, "weight_decay": 1e-3},
        STEPS,
    ),
    "lbfgs": ("lbfgs", {"max_iter": 3}, "LBFGS", {"max_iter": 3}, LBFGS_STEPS),
    "lbfgs_short_history": (
        "lbfgs",
        {"lr": 0.5, "max_iter": 4, "history_size": 3},
        "LBFGS",
        {"lr": 0.5, "max_iter": 4, "history_size": 3},
        LBFGS_STEPS,
    ),
    "lbfgs_strong_wolfe": (
        "lbfgs",
        {"max_iter": 10, "line_search_fn": "strong_wolfe"},
        "LBFGS",
        {"max_iter": 10, "line_search_fn": "strong_wolfe"},
        3,
    ),
    "lbfgs_strong_wolfe_budget": (
        "lbfgs",
        {"lr": 0.8, "max_iter": 8, "max_eval": 6, "history_size": 5, "strong_wolfe": True},
        "LBFGS",
        {
            "lr": 0.8,
            "max_iter": 8,
            "max_eval": 6,
            "history_size": 5,
            "line_search_fn": "strong_wolfe",
        },
        4,
    ),
    "muon": ("muon", {"lr": 0.02}, "Muon", {"lr": 0.02}, STEPS),
    "muon_plain_match_rms": (
        "muon",
        MUON_PLAIN,
        "Muon",
        MUON_PLAIN,
        STEPS,
    ),
    "lookahead_adam": (
        "lookahead",
        {"inner": {"optimizer": "adam", "lr": 0.01}},
        "Lookahead",
        {"k": 5, "alpha": 0.5, "inner": ("Adam", {"lr": 0.01})},
        STEPS,
    ),
    "lookahead_sgd_momentum": (
        "lookahead",
        {"k": 3, "alpha": 0.8, "inner": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}},
        "Lookahead",
        {"k": 3, "alpha": 0.8, "inner": ("SGD", {"lr": 0.1, "momentum": 0.9})},
        STEPS,
    ),
    "sam_sgd": (
        "sam",
        {"inner": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}},
        "SAM",
        {"rho": 0.05, "adaptive": False, "inner": ("SGD", {"lr": 0.1, "momentum": 0.9})},
        STEPS,
    ),
    "sam_adaptive_adam": (
        "sam",
        {"rho": 0.5, "adaptive": True, "inner": {"optimizer": "adam", "lr": 0.01}},
        "SAM",
        {"rho": 0.5, "adaptive": True, "inner": ("Adam", {"lr": 0.01})},
        STEPS,
    ),
}


class Lookahead:
    """Lookahead as pytorch_optimizer implements it: slow weights start at the weights;
    every k inner steps ``slow += alpha * (fast - slow)`` and ``fast = slow``."""

    def __init__(self, params: list[nn.Parameter], k: int, alpha: float, inner: Any):
        self.params, self.k, self.alpha, self.inner = params, k, alpha, inner
        self.slow = [p.detach().clone() for p in params]
        self.count = 0

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    @torch.no_grad()
    def step(self) -> None:
        self.inner.step()
        self.count += 1
        if self.count % self.k == 0:
            for fast, slow in zip(self.params, self.slow, strict=True):
                slow.add_((fast - slow) * self.alpha)
                fast.copy_(slow)


class SAM:
    """SAM as davda54/sam implements it (first_step, second_step)."""

    def __init__(self, params: list[nn.Parameter], rho: float, adaptive: bool, inner: Any):
        self.params, self.rho, self.adaptive, self.inner = params, rho, adaptive, inner

    def zero_grad(self) -> None:
        self.inner.zero_grad()

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> None:
        closure = torch.enable_grad()(closure)
        closure()
        norms = [((p.abs() if self.adaptive else 1.0) * p.grad).norm(p=2) for p in self.params]
        scale = self.rho / (torch.norm(torch.stack(norms), p=2) + 1e-12)
        old = []
        for p in self.params:
            old.append(p.detach().clone())
            e_w = (torch.pow(p, 2) if self.adaptive else 1.0) * p.grad * scale.to(p)
            p.add_(e_w)
        self.zero_grad()
        closure()
        for p, saved in zip(self.params, old, strict=True):
            p.copy_(saved)
        self.inner.step()


class MuonWithAdamW:
    """torch.optim.Muon on the weight matrices, torch.optim.AdamW on the biases."""

    def __init__(self, params: list[nn.Parameter], **kwargs: Any):
        matrices = [p for p in params if p.ndim == 2]
        vectors = [p for p in params if p.ndim != 2]
        self.muon = torch.optim.Muon(matrices, **kwargs)
        self.adamw = torch.optim.AdamW(vectors, lr=kwargs.get("lr", 1e-3), foreach=False)

    def zero_grad(self) -> None:
        self.muon.zero_grad()
        self.adamw.zero_grad()

    def step(self) -> None:
        self.muon.step()
        self.adamw.step()


def make(reference: str, params: list[nn.Parameter], kwargs: dict[str, Any]) -> Any:
    if reference in ("Lookahead", "SAM"):
        name, inner_kwargs = kwargs["inner"]
        inner = getattr(torch.optim, name)(params, foreach=False, **inner_kwargs)
        own = {k: v for k, v in kwargs.items() if k != "inner"}
        return (Lookahead if reference == "Lookahead" else SAM)(params, inner=inner, **own)
    if reference == "Muon":
        return MuonWithAdamW(params, **kwargs)
    if reference == "LBFGS":
        return torch.optim.LBFGS(params, **kwargs)
    return getattr(torch.optim, reference)(params, foreach=False, **kwargs)


def run(
    x: np.ndarray, y: np.ndarray, init: np.ndarray, reference: str, kwargs: dict, steps: int
) -> dict[str, np.ndarray]:
    linears = to_torch(init)
    params = [p for linear in linears for p in (linear.weight, linear.bias)]
    optimizer = make(reference, params, kwargs)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(axis=1))
    loss_fn = nn.CrossEntropyLoss()
    evaluations = 0

    def closure() -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = loss_fn(linears[1](torch.tanh(linears[0](inputs))), labels)
        loss.backward()
        return loss

    trajectory, grads, evals = [flatten(linears, "")], [], []
    for _ in range(steps):
        evaluations = 0
        if reference in ("LBFGS", "SAM"):
            optimizer.step(closure)
        else:
            closure()
            grads.append(flatten(linears, "grad"))
            optimizer.step()
        evals.append(evaluations)
        trajectory.append(flatten(linears, ""))
    out = {"params": np.array(trajectory), "evals": np.array(evals)}
    if grads:
        out["grads"] = np.array(grads)
    if reference == "ASGD":
        state = [optimizer.state[p]["ax"] for p in params]
        out["ax"] = np.concatenate(
            [(a.T if a.ndim == 2 else a).detach().numpy().ravel() for a in state]
        )
    return out


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    x, y, init = problem()
    arrays: dict[str, np.ndarray] = {"x": x, "y": y, "init": init, "layers": np.array(LAYERS)}
    cases = []
    for case, (ours, keys, reference, kwargs, steps) in CASES.items():
        for name, value in run(x, y, init, reference, kwargs, steps).items():
            arrays[f"{case}/{name}"] = value
        call = f"{reference}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        cases.append({"case": case, "optimizer": ours, "hparams": keys, "torch": call})
    arrays["cases"] = np.array(json.dumps(cases))
    arrays["torch_version"] = np.array(torch.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
