"""Microseconds per training step (forward + backward + optimizer update), ours vs PyTorch.

Networks are the course's (SEEDS.md): 1-3-1 sigmoid/MAE on iris rows 0..98 (full batch),
4-8-3 selu softmax/CE on iris (batch 32), 64-128-64-32-16-10 selu on digits (batch 32 and
the full 1437-row training split), and the 2-parameter peaks surface; optimizers sgd,
nesterov, adam, rmsprop; float64 and float32. Then the newer families on the networks:
adafactor, asgd, muon (AdamW on biases), lbfgs (max_iter 5 and tolerances 0: 5 gradient
evaluations a step, on both sides), lookahead (adam) and sam (sgd; torch has neither, so ours only).
Each figure is the fastest of repeated timeit runs. When torch is importable the same
steps are timed with torch CPU on one thread, taking turns with ours, and the ratio
torch/ours is printed next to its target.
Last, the lockstep gain: 24 racers stepped as one (R=24) block vs the same racers stepped
one at a time.

The machine is shared and noisy: read the ratios, which are measured in the same run.
    python benchmarks/engine_step.py [--repeat 7] [--dtype float64] [--no-torch]
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One BLAS thread, as in the app's engine processes (tui_optim.race.process) and as torch
# is timed here; set before NumPy loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.engine.init import initial_params
from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.engine.optimizers.base import Tensor
from tui_optim.engine.surfaces import SURFACES

OPTIMIZER_NAMES = ("sgd", "nesterov", "adam", "rmsprop")
LR = 0.01
RACERS = 24


# ---------------------------------------------------------------------------- optimizers
def make_optimizer(cls: Any, racers: int, params: np.ndarray) -> Any:
    optimizer = cls([{"lr": LR} for _ in range(racers)], params.dtype)
    optimizer.init_state(params)
    return optimizer


TORCH_OPTIMIZERS: dict[str, Callable[..., Any]] = {
    "sgd": lambda torch, p: torch.optim.SGD(p, lr=LR),
    "nesterov": lambda torch, p: torch.optim.SGD(p, lr=LR, momentum=0.9, nesterov=True),
    "adam": lambda torch, p: torch.optim.Adam(p, lr=LR),
    "rmsprop": lambda torch, p: torch.optim.RMSprop(p, lr=LR),
}


def _muon_with_adamw(torch: Any, parameters: Any) -> Any:
    params = list(parameters)
    muon = torch.optim.Muon([p for p in params if p.ndim == 2], lr=LR)
    adamw = torch.optim.AdamW([p for p in params if p.ndim != 2], lr=LR)

    class Both:
        def zero_grad(self) -> None:
            muon.zero_grad()
            adamw.zero_grad()

        def step(self) -> None:
            muon.step()
            adamw.step()

    return Both()


#: The newer families: our racer keys, and torch's optimizer (None: torch has none).
NEWER: dict[str, tuple[dict[str, Any], Callable[..., Any] | None]] = {
    "adafactor": ({"lr": LR}, lambda torch, p: torch.optim.Adafactor(p, lr=LR)),
    "asgd": ({"lr": LR}, lambda torch, p: torch.optim.ASGD(p, lr=LR)),
    "muon": ({"lr": LR}, _muon_with_adamw),
    # tolerances 0: thousands of steps on one batch would converge and stop evaluating
    "lbfgs": (
        {"max_iter": 5, "tolerance_grad": 0.0, "tolerance_change": 0.0},
        lambda torch, p: torch.optim.LBFGS(p, max_iter=5, tolerance_grad=0, tolerance_change=0),
    ),
    "lookahead": ({"inner": {"optimizer": "adam", "lr": LR}}, None),
    "sam": ({"inner": {"optimizer": "sgd", "lr": LR}}, None),
}


# ---------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Network:
    label: str
    layers: tuple[int, ...]
    hidden: str
    output: str
    loss: str
    x: np.ndarray
    y: np.ndarray
    target: float  # torch time / ours


def networks() -> list[Network]:
    from sklearn.datasets import load_digits, load_iris

    iris = load_iris()
    x131 = iris.data[:99, 2:3]
    x131 = (x131 - x131.mean()) / x131.std()
    y131 = iris.target[:99, None].astype(np.float64)
    x_iris = (iris.data - iris.data.mean(axis=0)) / iris.data.std(axis=0)
    y_iris = np.eye(3)[iris.target]
    rng = np.random.default_rng(0)
    batch = rng.permutation(len(x_iris))[:32]
    digits = load_digits()
    order = rng.permutation(len(digits.data))
    train = order[:1437]
    x_digits = digits.data[train] / 16.0
    y_digits = np.eye(10)[digits.target[train]]
    deep = (64, 128, 64, 32, 16, 10)
    return [
        Network(
            "iris 1-3-1 sigmoid/mae full 99",
            (1, 3, 1),
            "sigmoid",
            "sigmoid",
            "mae",
            x131,
            y131,
            5.0,
        ),
        Network(
            "iris 4-8-3 selu/ce batch 32",
            (4, 8, 3),
            "selu",
            "softmax",
            "cross_entropy",
            x_iris[batch],
            y_iris[batch],
            5.0,
        ),
        Network(
            "digits 64-..-10 selu batch 32",
            deep,
            "selu",
            "softmax",
            "cross_entropy",
            x_digits[:32],
            y_digits[:32],
            2.0,
        ),
        Network(
            "digits 64-..-10 selu full 1437",
            deep,
            "selu",
            "softmax",
            "cross_entropy",
            x_digits,
            y_digits,
            1.1,
        ),
    ]


# ---------------------------------------------------------------------------- timing
def calls_per_run(step: Callable[[], object], min_time: float) -> int:
    """How many calls of ``step`` take about ``min_time`` seconds (after one warm-up call)."""
    step()  # warm caches and buffers
    number = 1
    while True:
        elapsed = timeit.timeit(step, number=number)
        if elapsed >= min_time / 4:
            break
        number *= 4
    return max(1, int(number * min_time / max(elapsed, 1e-9) / 4 * 4))


def per_call_us(*steps: Callable[[], object], repeat: int, min_time: float) -> list[float]:
    """Fastest microseconds per call of each step over ``repeat`` interleaved rounds.

    The fastest, not the median: on a shared machine other work only ever adds time, so the
    minimum is the figure least disturbed by it (as the timeit documentation advises). The
    steps take turns within each round, so a slow spell of the machine falls on all of them
    and their ratio holds even when the absolute figures move.
    """
    numbers = [calls_per_run(step, min_time) for step in steps]
    best = [float("inf")] * len(steps)
    for _ in range(repeat):
        for index, (step, number) in enumerate(zip(steps, numbers, strict=True)):
            best[index] = min(best[index], timeit.timeit(step, number=number) / number)
    return [seconds * 1e6 for seconds in best]


def ours_mlp_step(
    net: Network,
    optimizer_cls: Any,
    dtype: np.dtype,
    racers: int = 1,
    hparams: dict[str, Any] | None = None,
):
    mlp = MLP(list(net.layers), net.hidden, net.output, net.loss, dtype)
    params = np.stack([initial_params(mlp, "glorot_uniform", seed) for seed in range(racers)])
    grads = np.empty_like(params)
    optimizer = optimizer_cls([hparams or {"lr": LR} for _ in range(racers)], params.dtype)
    optimizer.tensors = tuple(
        tensor
        for s in mlp.layers
        for tensor in (
            Tensor(f"W{s.index}", s.weight, (s.fan_in, s.fan_out)),
            Tensor(f"b{s.index}", s.bias, (s.fan_out,)),
        )
    )
    optimizer.init_state(params)
    x = np.ascontiguousarray(net.x, dtype=dtype)
    y = np.ascontiguousarray(net.y, dtype=dtype)

    def closure(points: np.ndarray, grad_out: np.ndarray, rows: Any) -> np.ndarray:
        return mlp.loss_and_grad(points, x, y, grad_out)

    def step() -> None:
        losses = mlp.loss_and_grad(params, x, y, grads)
        if optimizer.needs_closure:
            optimizer.step(params, grads, closure, losses)
        else:
            optimizer.step(params, grads)

    return step


def torch_mlp_step(
    torch: Any, net: Network, optimizer: str, dtype: np.dtype, factory: Any = None
):
    from torch import nn

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    activation = {"sigmoid": nn.Sigmoid, "selu": nn.SELU}[net.hidden]
    modules: list[Any] = []
    for index, (fan_in, fan_out) in enumerate(zip(net.layers[:-1], net.layers[1:], strict=True)):
        modules.append(nn.Linear(fan_in, fan_out, dtype=tdtype))
        if index < len(net.layers) - 2:
            modules.append(activation())
    if net.output == "sigmoid":
        modules.append(nn.Sigmoid())
    model = nn.Sequential(*modules)
    x = torch.tensor(net.x, dtype=tdtype)
    if net.loss == "cross_entropy":
        criterion: Any = nn.CrossEntropyLoss()
        y = torch.tensor(net.y.argmax(axis=1))
    else:
        criterion = nn.L1Loss()
        y = torch.tensor(net.y, dtype=tdtype)
    opt = (factory or TORCH_OPTIMIZERS[optimizer])(torch, model.parameters())

    def closure() -> Any:
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    if isinstance(opt, torch.optim.LBFGS):
        return lambda: opt.step(closure)

    def step() -> None:
        closure()
        opt.step()

    return step


def peaks_steps(torch: Any, optimizer_cls: Any, optimizer: str, dtype: np.dtype):
    """(ours, torch) step functions on the peaks surface (torch's is None without torch)."""
    surface = SURFACES["peaks"]
    params = np.array([[-0.35, -0.67]], dtype=dtype)
    grads = np.empty_like(params)
    opt = make_optimizer(optimizer_cls, 1, params)

    def ours() -> None:
        surface.gradient(params, out=grads)
        surface.value(params)
        opt.step(params, grads)

    if torch is None:
        return ours, None
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    w = torch.tensor([-0.35, -0.67], dtype=tdtype, requires_grad=True)
    topt = TORCH_OPTIMIZERS[optimizer](torch, [w])

    def theirs() -> None:
        topt.zero_grad()
        w0, w1 = w[0], w[1]
        value = (
            3 * (1 - w0) ** 2 * torch.exp(-(w0**2) - (w1 + 1) ** 2)
            - 10 * (w0 / 5 - w0**3 - w1**5) * torch.exp(-(w0**2) - w1**2)
            - torch.exp(-((w0 + 1) ** 2) - w1**2) / 3
        )
        value.backward()
        topt.step()

    return ours, theirs


def lockstep_gain(optimizer_cls: Any, net: Network, dtype: np.dtype, repeat: int, t: float):
    together = ours_mlp_step(net, optimizer_cls, dtype, racers=RACERS)
    alone = [ours_mlp_step(net, optimizer_cls, dtype, racers=1) for _ in range(RACERS)]

    def one_at_a_time() -> None:
        for step in alone:
            step()

    return per_call_us(together, one_at_a_time, repeat=repeat, min_time=t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timeit repeats (the fastest counts)")
    parser.add_argument("--min-time", type=float, default=0.03, help="seconds per repeat")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--no-torch", action="store_true", help="time ours only")
    parser.add_argument("--only", default="", help="time only problems whose label has this")
    args = parser.parse_args(argv)

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if torch is not None:
        torch.set_num_threads(1)
    classes = {name: OPTIMIZERS[name] for name in OPTIMIZER_NAMES}
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    print(f"torch: {torch.__version__ if torch else 'not importable'}")
    header = f"{'problem':32} {'optimizer':9} {'dtype':7} {'ours us':>9} {'torch us':>9} "
    print(header + f"{'torch/ours':>10} {'target':>7}")
    misses = 0
    nets = networks()
    for net in nets:
        if args.only not in net.label:
            continue
        for name in OPTIMIZER_NAMES:
            for dtype_name in dtypes:
                dtype = np.dtype(dtype_name)
                steps = [ours_mlp_step(net, classes[name], dtype)]
                if torch is not None:
                    steps.append(torch_mlp_step(torch, net, name, dtype))
                ours, *rest = per_call_us(*steps, repeat=args.repeat, min_time=args.min_time)
                theirs = rest[0] if rest else None
                misses += print_row(net.label, name, dtype_name, ours, theirs, net.target)
    for net in nets:
        if args.only not in net.label and args.only not in "newer":
            continue
        for name, (hparams, factory) in NEWER.items():
            for dtype_name in dtypes:
                dtype = np.dtype(dtype_name)
                steps = [ours_mlp_step(net, OPTIMIZERS[name], dtype, hparams=hparams)]
                if torch is not None and factory is not None:
                    steps.append(torch_mlp_step(torch, net, name, dtype, factory))
                ours, *rest = per_call_us(*steps, repeat=args.repeat, min_time=args.min_time)
                theirs = rest[0] if rest else None
                misses += print_row(net.label, name, dtype_name, ours, theirs, None)
    for name in OPTIMIZER_NAMES if args.only in "peaks surface" else ():
        for dtype_name in dtypes:
            steps = peaks_steps(torch, classes[name], name, np.dtype(dtype_name))
            present = [step for step in steps if step is not None]
            ours, *rest = per_call_us(*present, repeat=args.repeat, min_time=args.min_time)
            theirs = rest[0] if rest else None
            misses += print_row("peaks surface", name, dtype_name, ours, theirs, None)
    for dtype_name in dtypes if args.only in "lockstep" else ():
        together, alone = lockstep_gain(
            classes["adam"], nets[1], np.dtype(dtype_name), args.repeat, args.min_time
        )
        gain = alone / together
        misses += gain < 4.0
        print(
            f"lockstep {RACERS} racers, iris 4-8-3 batch 32, adam, {dtype_name}: "
            f"together {together:.0f} us ({RACERS / together * 1e6:,.0f} racer-steps/s), "
            f"one at a time {alone:.0f} us ({RACERS / alone * 1e6:,.0f} racer-steps/s), "
            f"gain {gain:.1f}x (target 4x){'' if gain >= 4.0 else '  MISSED'}"
        )
    print(f"{misses} figure(s) below target")
    return 0


def print_row(
    label: str, optimizer: str, dtype: str, ours: float, theirs: float | None, target
) -> int:
    ratio = "" if theirs is None else f"{theirs / ours:9.1f}x"
    torch_us = "" if theirs is None else f"{theirs:9.1f}"
    goal = "" if target is None else f"{target:6.1f}x"
    missed = theirs is not None and target is not None and theirs / ours < target
    flag = "  MISSED" if missed else ""
    print(
        f"{label:32} {optimizer:9} {dtype:7} {ours:9.1f} {torch_us:>9} {ratio:>10} {goal:>7}{flag}"
    )
    return int(missed)


if __name__ == "__main__":
    sys.exit(main())
