"""Write tests/fixtures/keras_parity.npz: Keras 3 optimizer trajectories on a real network.

A 4-5-3 tanh/softmax Dense network is trained full batch with categorical cross-entropy on
15 standardised iris rows (every 10th row: 5 per class) for STEPS steps by each Keras
optimizer configuration below, with the torch backend in float64. The 5 x 3 and 4 x 5
kernels are not square, so the per-tensor rules (Lamb, Adafactor, Muon) are checked in
Keras' own (fan_in, fan_out) orientation. For each case the file holds the flat weights
before and after every step ("<case>/params", (STEPS + 1, P), Keras layout: kernel 1, bias
1, kernel 2, bias 2) and Keras' gradients at every step ("<case>/grads", (STEPS, P)).
"cases" is a JSON list saying, per case, which of our keras-flavor optimizers and
hyperparameters (Keras spellings) must reproduce it, and the Keras call that produced it.

It also races the course's optimizer zoo on the peaks surface (10 steps from
(-0.35, -0.67), lr 0.1, Adadelta lr 1): "peaks/<optimizer>/params" (11, 2) and
"peaks/<optimizer>/grads" (10, 2), listed in "peaks_cases".

tests/engine/test_keras_parity.py replays the cases with our MLP's gradients and with
Keras' stored gradients, and requires <= 1e-9 relative error.

Float64 for real: Keras 3.15's dtype promotion (``keras.src.backend.common.dtypes.
result_type``) maps float64 to float32 on every backend but TensorFlow, so with the torch
backend ``ops.matmul`` and ``ops.mean`` round float64 inputs to float32, compute, and cast
back (the Dense layers' products, Adafactor's factored means; ~1e-7 relative per step).
No float64 implementation can follow that to 1e-9, so this script keeps float64 float64
(``keep_float64``); the update rules are Keras' own code, unchanged. It prints how far the
unpatched float32-promoting runs land from the fixtures, for the record.

Run from the repository root (needs keras and torch; the tests do not):
    KERAS_BACKEND=torch /work/refvenv/bin/python scripts/make_keras_fixtures.py
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from make_optimizer_fixtures import iris_problem

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_parity.npz"
LAYERS = [4, 5, 3]
STEPS = 40
SEED = 11
PEAKS_START = (-0.35, -0.67)
PEAKS_STEPS = 10


def same(ours: str, cls: str, **kwargs: Any) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """A case whose hyperparameters are the Keras call's arguments, in Keras' spellings (so
    the aliases are exercised too)."""
    return ours, dict(kwargs), cls, kwargs


# case: (our keras-flavor optimizer, our hyperparameters, Keras class, Keras arguments).
CASES: dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]] = {
    "sgd": same("sgd", "SGD", learning_rate=0.2),
    "sgd_momentum": same("sgd", "SGD", learning_rate=0.05, momentum=0.9),
    "sgd_nesterov_wd": same(
        "sgd", "SGD", learning_rate=0.05, momentum=0.8, nesterov=True, weight_decay=0.05
    ),
    "rmsprop": same("rmsprop", "RMSprop", learning_rate=0.01),
    "rmsprop_centered_momentum_wd": same(
        "rmsprop", "RMSprop", learning_rate=0.005, rho=0.8, momentum=0.5, centered=True,
        weight_decay=0.05,
    ),
    "adagrad": same("adagrad", "Adagrad", learning_rate=0.1),
    "adagrad_zero_start_wd": same(
        "adagrad", "Adagrad", learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-6,
        weight_decay=0.05,
    ),
    "adadelta": same("adadelta", "Adadelta", learning_rate=1.0),
    "adadelta_rho_wd": same(
        "adadelta", "Adadelta", learning_rate=0.5, rho=0.9, epsilon=1e-6, weight_decay=0.05
    ),
    "adam": same("adam", "Adam", learning_rate=0.01),
    "adam_betas_wd": same(
        "adam", "Adam", learning_rate=0.01, beta_1=0.8, beta_2=0.99, weight_decay=0.05
    ),
    # our amsgrad is Keras' Adam(amsgrad=True)
    "amsgrad": ("amsgrad", {"learning_rate": 0.01}, "Adam", {"learning_rate": 0.01,
                                                             "amsgrad": True}),
    "adamw": same("adamw", "AdamW", learning_rate=0.01),
    "adamw_amsgrad": same(
        "adamw", "AdamW", learning_rate=0.01, weight_decay=0.1, amsgrad=True, epsilon=1e-5
    ),
    "adamax": same("adamax", "Adamax", learning_rate=0.02),
    "adamax_wd": same(
        "adamax", "Adamax", learning_rate=0.02, beta_1=0.8, beta_2=0.99, weight_decay=0.05
    ),
    "nadam": same("nadam", "Nadam", learning_rate=0.01),
    "nadam_wd": same(
        "nadam", "Nadam", learning_rate=0.01, beta_2=0.99, epsilon=1e-5, weight_decay=0.05
    ),
    "lion": same("lion", "Lion", learning_rate=0.003),
    "lion_wd": same(
        "lion", "Lion", learning_rate=0.003, beta_1=0.95, beta_2=0.98, weight_decay=0.5
    ),
    "adafactor": same("adafactor", "Adafactor", learning_rate=0.05),
    "adafactor_clip_wd": same(
        "adafactor", "Adafactor", learning_rate=0.3, beta_2_decay=-0.5, epsilon_2=0.01,
        clip_threshold=0.5, relative_step=False, weight_decay=0.05,
    ),
    "lamb": same("lamb", "Lamb", learning_rate=0.02),
    "lamb_wd": same(
        "lamb", "Lamb", learning_rate=0.02, beta_1=0.8, beta_2=0.99, weight_decay=0.05
    ),
    "ftrl": same("ftrl", "Ftrl", learning_rate=0.2),
    "ftrl_regularised": same(
        "ftrl", "Ftrl", learning_rate=0.2, learning_rate_power=-0.7,
        initial_accumulator_value=0.2, l1_regularization_strength=0.002,
        l2_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.01, beta=0.5,
        weight_decay=0.05,
    ),
    # Keras' base-optimizer clipping: clipnorm per tensor, global_clipnorm, clipvalue.
    "sgd_clipnorm": same("sgd", "SGD", learning_rate=0.2, momentum=0.5, clipnorm=0.1),
    "adam_global_clipnorm": same(
        "adam", "Adam", learning_rate=0.01, global_clipnorm=0.3, weight_decay=0.05
    ),
    "rmsprop_clipvalue": same("rmsprop", "RMSprop", learning_rate=0.01, clipvalue=0.05),
    "muon": same("muon", "Muon", learning_rate=0.02),
    # Keras turns the RMS matching off with rms_rate=None; ours takes 0 for that
    "muon_plain_momentum": (
        "muon",
        {"learning_rate": 0.02, "momentum": 0.9, "nesterov": False, "ns_steps": 3,
         "rms_rate": 0.0, "weight_decay": 0.05, "adam_weight_decay": 0.0, "adam_lr_ratio": 0.5,
         "adam_beta_1": 0.8, "epsilon": 1e-5},
        "Muon",
        {"learning_rate": 0.02, "momentum": 0.9, "nesterov": False, "ns_steps": 3,
         "rms_rate": None, "weight_decay": 0.05, "adam_weight_decay": 0.0, "adam_lr_ratio": 0.5,
         "adam_beta_1": 0.8, "epsilon": 1e-5},
    ),
}  # fmt: skip

# The course's zoo on the peaks surface: (our keras-flavor optimizer, lr, Keras call).
PEAKS: dict[str, tuple[str, float, str, dict[str, Any]]] = {
    "SGD": ("sgd", 0.1, "SGD", {}),
    "Adagrad": ("adagrad", 0.1, "Adagrad", {}),
    "RMSprop": ("rmsprop", 0.1, "RMSprop", {}),
    "Adadelta": ("adadelta", 1.0, "Adadelta", {}),
    "Adam": ("adam", 0.1, "Adam", {}),
    "AMSGrad": ("amsgrad", 0.1, "Adam", {"amsgrad": True}),
    "Adamax": ("adamax", 0.1, "Adamax", {}),
    "Nadam": ("nadam", 0.1, "Nadam", {}),
}


def keep_float64(keep: bool) -> None:
    """Whether Keras' result_type keeps float64 (True) or demotes it to float32 (Keras'
    default on the torch backend)."""
    from keras.src.backend.common import dtypes

    dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64" if keep else "float32"


def model_from(flat: np.ndarray) -> keras.Model:
    """The Dense network with weights taken from a flat Keras-layout row."""
    model = keras.Sequential(
        [keras.Input((LAYERS[0],)), keras.layers.Dense(LAYERS[1], activation="tanh"),
         keras.layers.Dense(LAYERS[2])]  # logits: the softmax is in the loss
    )  # fmt: skip
    weights, offset = [], 0
    for fan_in, fan_out in itertools.pairwise(LAYERS):
        weights.append(flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
        weights.append(flat[offset : offset + fan_out])
        offset += fan_out
    model.set_weights(weights)
    return model


def flat(variables: list[Any]) -> np.ndarray:
    return np.concatenate([keras.ops.convert_to_numpy(v).ravel() for v in variables])


def train(
    variables: list[keras.Variable],
    loss_of: Any,
    optimizer: keras.optimizers.Optimizer,
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras' own torch training step (trainers/torch_trainer.py) repeated ``steps`` times:
    backward, then ``optimizer.apply`` under no_grad. Weights after every step and grads."""
    trajectory, grads = [flat(variables)], []
    for _ in range(steps):
        for variable in variables:
            variable.value.grad = None
        loss_of().backward()
        step_grads = [variable.value.grad for variable in variables]
        grads.append(np.concatenate([g.detach().numpy().ravel() for g in step_grads]))
        with torch.no_grad():
            optimizer.apply(step_grads, variables)
        trajectory.append(flat(variables))
    return np.array(trajectory), np.array(grads)


def run_network(
    x: np.ndarray, y: np.ndarray, init: np.ndarray, cls: str, kwargs: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    model = model_from(init)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = getattr(keras.optimizers, cls)(**kwargs)

    def loss() -> torch.Tensor:
        # keras.losses.CategoricalCrossentropy reduces in float32 even under float64 floatx;
        # the ops keep float64 (the mean over the batch, as the loss class takes it).
        cross_entropy = keras.ops.categorical_crossentropy(targets, model(inputs), True)
        return keras.ops.mean(cross_entropy)

    return train(model.trainable_variables, loss, optimizer, STEPS)


def peaks(point: torch.Tensor) -> torch.Tensor:
    """MATLAB's peaks, as tui_optim.engine.surfaces defines it."""
    x, y = point[0], point[1]
    a = torch.exp(-(x**2) - (y + 1) ** 2)
    b = torch.exp(-(x**2) - y**2)
    c = torch.exp(-((x + 1) ** 2) - y**2)
    return 3 * (1 - x) ** 2 * a - 10 * (x / 5 - x**3 - y**5) * b - c / 3


def run_peaks(lr: float, cls: str, kwargs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    point = keras.Variable(np.array(PEAKS_START), dtype="float64")
    optimizer = getattr(keras.optimizers, cls)(learning_rate=lr, **kwargs)
    return train([point], lambda: peaks(point.value), optimizer, PEAKS_STEPS)


def call(cls: str, kwargs: dict[str, Any]) -> str:
    return f"keras.optimizers.{cls}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def main() -> None:
    if keras.backend.backend() != "torch":
        raise SystemExit("run with KERAS_BACKEND=torch")
    keras.config.set_floatx("float64")
    torch.set_num_threads(1)
    x, y, init = iris_problem(LAYERS, SEED)
    arrays: dict[str, np.ndarray] = {"x": x, "y": y, "init": init, "layers": np.array(LAYERS)}
    cases = []
    for case, (ours, hparams, cls, kwargs) in CASES.items():
        keep_float64(False)
        demoted, _ = run_network(x, y, init, cls, kwargs)
        keep_float64(True)
        trajectory, grads = run_network(x, y, init, cls, kwargs)
        drift = np.max(np.abs(demoted[-1] - trajectory[-1])) / np.max(np.abs(trajectory[-1]))
        print(f"{case:30s} Keras' float32 promotion moves step {STEPS} by {drift:.1e}")
        arrays[f"{case}/params"] = trajectory
        arrays[f"{case}/grads"] = grads
        cases.append(
            {"case": case, "optimizer": ours, "hparams": hparams, "keras": call(cls, kwargs)}
        )
    arrays["cases"] = np.array(json.dumps(cases))
    keep_float64(True)
    peaks_cases = []
    for racer, (ours, lr, cls, kwargs) in PEAKS.items():
        trajectory, grads = run_peaks(lr, cls, kwargs)
        arrays[f"peaks/{racer}/params"] = trajectory
        arrays[f"peaks/{racer}/grads"] = grads
        peaks_cases.append(
            {"racer": racer, "optimizer": ours, "lr": lr,
             "keras": call(cls, {"learning_rate": lr, **kwargs})}
        )  # fmt: skip
        print(f"peaks {racer:9s} ends at ({trajectory[-1, 0]:.6f}, {trajectory[-1, 1]:.6f})")
    arrays["peaks_start"] = np.array(PEAKS_START)
    arrays["peaks_cases"] = np.array(json.dumps(peaks_cases))
    arrays["keras_version"] = np.array(keras.__version__)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
