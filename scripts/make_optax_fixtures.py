"""Write tests/fixtures/optax_parity.npz: optax 0.2.8 trajectories on a real MLP problem.

The problem is the one scripts/make_optimizer_fixtures.py trains with torch.optim: a 4-4-3
tanh/softmax network, full batch, mean cross-entropy on 15 standardised iris rows, the same
initial weights. Here jax (float64) computes the gradients and each optax optimizer below
updates the parameters, a pytree of four leaves in our layout (W1 (4, 4), b1 (4,), W2 (4, 3),
b2 (3,)), so rules that act per leaf (LAMB, LARS, NovoGrad, Fromage, SM3) see the same
tensors as ours.

For each case the file holds the flat parameters before and after every step
("<case>/params", (STEPS + 1, P)), the gradients optax was given ("<case>/grads",
(STEPS, P)), and for schedule-free cases the evaluation point
``optax.contrib.schedule_free_eval_params`` gives after every step ("<case>/eval").
"cases" is a JSON list saying, per case, which of our optimizers and hyperparameters must
reproduce it and the optax call that produced it; "signatures" holds, per optimizer, the
keyword defaults of its optax function (our defaults and spellings are tested against them).

tests/engine/test_optax_parity.py replays the cases with our MLP's gradients and with the
stored gradients, and requires <= 1e-12 relative error at every step.

Run from the repository root (needs jax, optax, torch and scikit-learn; the tests do not):
    python scripts/make_optax_fixtures.py
"""

from __future__ import annotations

import inspect
import itertools
import json
from pathlib import Path
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import optax.contrib  # noqa: E402
from make_optimizer_fixtures import LAYERS, STEPS, problem  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "optax_parity.npz"

# case: (our optimizer, our hyperparameters, the optax call building the optimizer)
CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "lamb": ("lamb", {"lr": 0.01}, "optax.lamb(learning_rate=0.01)"),
    "lamb_wd": (
        "lamb",
        {"learning_rate": 0.02, "b1": 0.8, "b2": 0.99, "eps": 1e-4, "weight_decay": 0.01},
        "optax.lamb(learning_rate=0.02, b1=0.8, b2=0.99, eps=1e-4, weight_decay=0.01)",
    ),
    "adabelief": ("adabelief", {"lr": 0.01}, "optax.adabelief(learning_rate=0.01)"),
    "adabelief_nesterov": (
        "adabelief",
        {
            "learning_rate": 0.02,
            "b1": 0.8,
            "b2": 0.99,
            "eps": 1e-8,
            "eps_root": 0.0,
            "nesterov": True,
        },
        "optax.adabelief(learning_rate=0.02, b1=0.8, b2=0.99, eps=1e-8, eps_root=0.0,"
        " nesterov=True)",
    ),
    "lars": ("lars", {"lr": 1.0}, "optax.lars(learning_rate=1.0)"),
    "lars_nesterov_wd": (
        "lars",
        {
            "learning_rate": 0.5,
            "weight_decay": 1e-3,
            "trust_coefficient": 0.02,
            "eps": 1e-3,
            "momentum": 0.8,
            "nesterov": True,
        },
        "optax.lars(learning_rate=0.5, weight_decay=1e-3, trust_coefficient=0.02, eps=1e-3,"
        " momentum=0.8, nesterov=True)",
    ),
    "yogi": ("yogi", {"lr": 0.01}, "optax.yogi(learning_rate=0.01)"),
    "yogi_betas_eps": (
        "yogi",
        {"learning_rate": 0.03, "b1": 0.8, "b2": 0.99, "eps": 1e-6},
        "optax.yogi(learning_rate=0.03, b1=0.8, b2=0.99, eps=1e-6)",
    ),
    "schedule_free_adamw": (
        "schedule_free_adamw",
        {"lr": 0.01},
        "optax.contrib.schedule_free_adamw(learning_rate=0.01)",
    ),
    "schedule_free_adamw_warmup_wd": (
        "schedule_free_adamw",
        {
            "learning_rate": 0.02,
            "warmup_steps": 10,
            "b1": 0.8,
            "b2": 0.99,
            "eps": 1e-6,
            "weight_decay": 1e-3,
            "weight_lr_power": 1.0,
        },
        "optax.contrib.schedule_free_adamw(learning_rate=0.02, warmup_steps=10, b1=0.8,"
        " b2=0.99, eps=1e-6, weight_decay=1e-3, weight_lr_power=1.0)",
    ),
    "prodigy": ("prodigy", {}, "optax.contrib.prodigy()"),
    "prodigy_safeguard_wd": (
        "prodigy",
        {
            "learning_rate": 0.5,
            "betas": [0.8, 0.99],
            "beta3": 0.95,
            "eps": 1e-6,
            "estim_lr0": 1e-4,
            "estim_lr_coef": 0.8,
            "weight_decay": 1e-3,
            "safeguard_warmup": True,
        },
        "optax.contrib.prodigy(learning_rate=0.5, betas=(0.8, 0.99), beta3=0.95, eps=1e-6,"
        " estim_lr0=1e-4, estim_lr_coef=0.8, weight_decay=1e-3, safeguard_warmup=True)",
    ),
    "adan": ("adan", {"lr": 0.01}, "optax.adan(learning_rate=0.01)"),
    "adan_wd": (
        "adan",
        {
            "learning_rate": 0.02,
            "b1": 0.9,
            "b2": 0.8,
            "b3": 0.995,
            "eps": 1e-6,
            "eps_root": 0.0,
            "weight_decay": 0.01,
        },
        "optax.adan(learning_rate=0.02, b1=0.9, b2=0.8, b3=0.995, eps=1e-6, eps_root=0.0,"
        " weight_decay=0.01)",
    ),
    "adopt": ("adopt", {"lr": 0.01}, "optax.contrib.adopt(learning_rate=0.01)"),
    "adopt_nesterov": (
        "adopt",
        {"learning_rate": 0.02, "b1": 0.8, "b2": 0.99, "eps": 1e-4, "nesterov": True},
        "optax.contrib.adopt(learning_rate=0.02, b1=0.8, b2=0.99, eps=1e-4, nesterov=True)",
    ),
    "adopt_no_clipping": (
        "adopt",
        {"lr": 0.005, "use_clipping": False},
        "optax.contrib.adopt(learning_rate=0.005, use_clipping=False)",
    ),
    "ademamix": ("ademamix", {"lr": 0.01}, "optax.contrib.ademamix(learning_rate=0.01)"),
    "ademamix_wd": (
        "ademamix",
        {
            "learning_rate": 0.005,
            "b1": 0.8,
            "b2": 0.99,
            "b3": 0.999,
            "alpha": 3.0,
            "eps": 1e-6,
            "eps_root": 1e-10,
            "weight_decay": 0.01,
        },
        "optax.contrib.ademamix(learning_rate=0.005, b1=0.8, b2=0.99, b3=0.999, alpha=3.0,"
        " eps=1e-6, eps_root=1e-10, weight_decay=0.01)",
    ),
    "madgrad": ("madgrad", {"lr": 0.01}, "optax.contrib.madgrad(learning_rate=0.01)"),
    "madgrad_wd": (
        "madgrad",
        {"learning_rate": 0.02, "momentum": 0.8, "weight_decay": 1e-3, "eps": 1e-8},
        "optax.contrib.madgrad(learning_rate=0.02, momentum=0.8, weight_decay=1e-3, eps=1e-8)",
    ),
    "novograd": ("novograd", {"lr": 0.005}, "optax.novograd(learning_rate=0.005)"),
    "novograd_wd": (
        "novograd",
        {
            "learning_rate": 0.005,
            "b1": 0.8,
            "b2": 0.5,
            "eps": 1e-8,
            "eps_root": 1e-10,
            "weight_decay": 1e-3,
        },
        "optax.novograd(learning_rate=0.005, b1=0.8, b2=0.5, eps=1e-8, eps_root=1e-10,"
        " weight_decay=1e-3)",
    ),
    "signum": ("signum", {"lr": 0.005}, "optax.signum(learning_rate=0.005)"),
    "signum_beta": (
        "signum",
        {"learning_rate": 0.01, "beta": 0.5},
        "optax.signum(learning_rate=0.01, beta=0.5)",
    ),
    "sm3": ("sm3", {"lr": 0.05}, "optax.sm3(learning_rate=0.05)"),
    "sm3_momentum": (
        "sm3",
        {"learning_rate": 0.1, "momentum": 0.5},
        "optax.sm3(learning_rate=0.1, momentum=0.5)",
    ),
    "fromage": ("fromage", {"lr": 0.01}, "optax.fromage(learning_rate=0.01)"),
    "fromage_min_norm": (
        "fromage",
        {"learning_rate": 0.02, "min_norm": 0.05},
        "optax.fromage(learning_rate=0.02, min_norm=0.05)",
    ),
}


def _leaves(flat: np.ndarray) -> list[jnp.ndarray]:
    """The flat row as the pytree [W1, b1, W2, b2, ...] in our layout."""
    leaves, offset = [], 0
    for fan_in, fan_out in itertools.pairwise(LAYERS):
        weight = flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
        leaves.append(jnp.asarray(weight))
        offset += fan_in * fan_out
        leaves.append(jnp.asarray(flat[offset : offset + fan_out]))
        offset += fan_out
    return leaves


def _flat(leaves: list[jnp.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(leaf).ravel() for leaf in leaves])


def _loss(leaves: list[jnp.ndarray], x: jnp.ndarray, y: jnp.ndarray) -> jnp.ndarray:
    activation = x
    for layer in range(len(leaves) // 2 - 1):
        activation = jnp.tanh(activation @ leaves[2 * layer] + leaves[2 * layer + 1])
    logits = activation @ leaves[-2] + leaves[-1]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.sum(y * logits, axis=1))


def run(x: np.ndarray, y: np.ndarray, init: np.ndarray, call: str) -> dict[str, np.ndarray]:
    """Train from ``init`` with the optax optimizer ``call`` builds, full batch."""
    optimizer = eval(call, {"optax": optax})
    schedule_free = "schedule_free" in call
    grad_fn = jax.jit(jax.grad(_loss))
    # Jitted, as training loops use optax: XLA's compiled rounding of optax's float32
    # schedules (schedule_free_adamw's warmup) is what our warmup reproduces.
    update = jax.jit(optimizer.update)
    params = _leaves(init)
    state = optimizer.init(params)
    inputs, targets = jnp.asarray(x), jnp.asarray(y)
    trajectory, grads, evaluation = [_flat(params)], [], []
    for _ in range(STEPS):
        grad = grad_fn(params, inputs, targets)
        grads.append(_flat(grad))
        updates, state = update(grad, state, params)
        params = optax.apply_updates(params, updates)
        trajectory.append(_flat(params))
        if schedule_free:
            evaluation.append(_flat(optax.contrib.schedule_free_eval_params(state, params)))
    out = {"params": np.array(trajectory), "grads": np.array(grads)}
    if schedule_free:
        out["eval"] = np.array(evaluation)
    return out


def signature(call: str) -> dict[str, Any]:
    """The optax function's keyword defaults, as JSON: "<required>" for none (optax's lr),
    "<function>" for a callable, lists for tuples."""
    function = eval(call.split("(")[0], {"optax": optax})
    out: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        default = parameter.default
        if default is inspect.Parameter.empty:
            default = "<required>"
        elif callable(default):
            default = "<function>"
        elif isinstance(default, tuple):
            default = list(default)
        out[name] = default
    return out


def main() -> None:
    x, y, init = problem()
    arrays: dict[str, np.ndarray] = {"x": x, "y": y, "init": init, "layers": np.array(LAYERS)}
    cases = []
    for case, (ours, hparams, call) in CASES.items():
        for key, value in run(x, y, init, call).items():
            arrays[f"{case}/{key}"] = value
        cases.append({"case": case, "optimizer": ours, "hparams": hparams, "optax": call})
    arrays["cases"] = np.array(json.dumps(cases))
    signatures = {case["optimizer"]: signature(case["optax"]) for case in cases}
    arrays["signatures"] = np.array(json.dumps(signatures))
    arrays["optax_version"] = np.array(optax.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
