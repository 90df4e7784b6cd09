"""How much of a full-batch digits step is matrix products, ours (NumPy's BLAS) vs torch's.

The digits 64-128-64-32-16-10 selu network on its 1437-row training split: engine_step.py
times the whole sgd step. This splits it. The products are timed one by one with the very
shapes and transpositions ``MLP.loss_and_grad`` uses (forward ``a @ W``, ``dW = a^T @ delta``,
``db = 1^T @ delta``, ``dA = delta @ W^T``), once with NumPy and once with ``torch.mm`` on one
thread; everything else in the step is the rest. The last column answers: with torch's
products and our rest, what would the ratio be?

    python benchmarks/gemm_share.py [--repeat 9] [--dtype float64]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in the engine and engine_step.py

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_step import networks, ours_mlp_step, per_call_us, torch_mlp_step

from tui_optim.engine.optimizers import OPTIMIZERS

Products = list[Callable[[], object]]


def products(module: Any, layers: tuple[int, ...], batch: int, dtype: np.dtype) -> Products:
    """The step's products as separate calls, with NumPy (``module`` None) or torch."""
    rng = np.random.default_rng(0)
    calls: Products = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(layers)):
        below = rng.standard_normal((batch, fan_in)).astype(dtype)
        weight = rng.standard_normal((fan_in, fan_out)).astype(dtype)
        delta = rng.standard_normal((batch, fan_out)).astype(dtype)
        ones = np.ones(batch, dtype)
        z, dw = np.empty((batch, fan_out), dtype), np.empty((fan_in, fan_out), dtype)
        db, da = np.empty(fan_out, dtype), np.empty((batch, fan_in), dtype)
        if module is None:
            calls += [
                lambda below=below, weight=weight, z=z: np.dot(below, weight, out=z),
                lambda below=below, delta=delta, dw=dw: np.dot(below.T, delta, out=dw),
                lambda ones=ones, delta=delta, db=db: np.dot(ones, delta, out=db),
            ]
            if index > 0:
                calls.append(lambda d=delta, w=weight, da=da: np.dot(d, w.T, out=da))
            continue
        t_below, t_weight, t_delta, t_ones = (
            module.from_numpy(array) for array in (below, weight, delta, ones)
        )
        t_z, t_dw, t_db, t_da = (module.from_numpy(array) for array in (z, dw, db, da))
        calls += [
            lambda b=t_below, w=t_weight, z=t_z: module.mm(b, w, out=z),
            lambda b=t_below, d=t_delta, dw=t_dw: module.mm(b.T, d, out=dw),
            lambda o=t_ones, d=t_delta, db=t_db: module.mv(d.T, o, out=db),
        ]
        if index > 0:
            calls.append(lambda d=t_delta, w=t_weight, da=t_da: module.mm(d, w.T, out=da))
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timeit repeats (the fastest counts)")
    parser.add_argument("--min-time", type=float, default=0.05, help="seconds per repeat")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("torch is not importable: this comparison needs it (pip install torch==2.13.0)")
        return 1
    torch.set_num_threads(1)
    net = networks()[3]
    batch = net.x.shape[0]
    print(f"torch {torch.__version__}, {net.label}, sgd; microseconds per step")
    print(
        f"{'dtype':7} {'ours':>7} {'products':>9} {'rest':>7} | {'torch':>7} {'products':>9} "
        f"{'rest':>7} | {'torch/ours':>10} {'with torch products':>20}"
    )
    for dtype_name in ("float64", "float32") if args.dtype == "both" else (args.dtype,):
        dtype = np.dtype(dtype_name)
        ours_products = products(None, net.layers, batch, dtype)
        torch_products = products(torch, net.layers, batch, dtype)
        steps = [
            ours_mlp_step(net, OPTIMIZERS["sgd"], dtype),
            torch_mlp_step(torch, net, "sgd", dtype),
            *ours_products,
            *torch_products,
        ]
        timed = per_call_us(*steps, repeat=args.repeat, min_time=args.min_time)
        ours, theirs = timed[:2]
        ours_gemm = sum(timed[2 : 2 + len(ours_products)])
        torch_gemm = sum(timed[2 + len(ours_products) :])
        ours_rest, torch_rest = ours - ours_gemm, theirs - torch_gemm
        print(
            f"{dtype_name:7} {ours:7.0f} {ours_gemm:9.0f} {ours_rest:7.0f} | {theirs:7.0f} "
            f"{torch_gemm:9.0f} {torch_rest:7.0f} | {theirs / ours:9.2f}x "
            f"{theirs / (ours_rest + torch_gemm):19.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
