"""Every registered optimizer: convergence, validation, aliases, lockstep rows, row surgery,
float32; plus the course-specific rules (textbook Adam, momentum, Nesterov, gains)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tui_optim.engine.errors import UnknownNameError
from tui_optim.engine.optimizers import (
    OPTIMIZERS,
    HyperparameterError,
    Optimizer,
    get_optimizer,
    update_rule,
)
from tui_optim.engine.optimizers.momentum import scheduled_gamma
from tui_optim.engine.optimizers.wrappers import Wrapper

NAMES = list(OPTIMIZERS)
CURVATURE = np.array([1.0, 10.0])


def quadratic(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0.5 * (w0^2 + 10 w1^2) per row: value (r,), gradient (r, 2)."""
    return 0.5 * (CURVATURE * w * w).sum(axis=-1), CURVATURE * w


def rosenbrock(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = w[..., 0], w[..., 1]
    value = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    grad = np.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], axis=-1)
    return value, grad


QUADRATIC_HPARAMS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.05},
    "momentum": {"lr": 0.01},
    "nesterov": {"lr": 0.01},
    "adaptive_gains": {"lr": 0.01},
    "adagrad": {"lr": 0.5},
    "adadelta": {"eps": 1e-4},
    "rmsprop": {},
    "rprop": {},
    "adam": {"lr": 0.05},
    "amsgrad": {"lr": 0.05},
    "adamw": {"lr": 0.05},
    "adamax": {"lr": 0.05},
    "nadam": {"lr": 0.05},
    "radam": {"lr": 0.05},
    "lion": {"lr": 0.01},
    "textbook_adam": {},
    "adafactor": {"lr": 0.1},
    "asgd": {"lr": 0.05},
    "lbfgs": {},
    "muon": {"lr": 0.05},
    "lookahead": {"inner": {"optimizer": "adam", "lr": 0.05}},
    "sam": {"inner": {"optimizer": "sgd", "lr": 0.05}},
}
#: The optax families.
QUADRATIC_HPARAMS.update(
    {
        "lamb": {"lr": 0.05},
        "fromage": {"lr": 0.1},
        "sm3": {"lr": 0.5},
        "signum": {"lr": 0.01},
        "novograd": {"lr": 0.05},
        "madgrad": {"lr": 0.05},
        "ademamix": {"lr": 0.05},
        "adopt": {"lr": 0.05},
        "adan": {"lr": 0.05},
        "prodigy": {"estim_lr0": 1e-3},
        "schedule_free_adamw": {"lr": 0.05},
        "yogi": {"lr": 0.05},
        "lars": {"lr": 20.0},
        "adabelief": {"lr": 0.05},
    }
)
ROSENBROCK_HPARAMS = {
    **QUADRATIC_HPARAMS,
    "asgd": {"lr": 1e-3},
    "sam": {"inner": {"optimizer": "sgd", "lr": 1e-3}},
    "sgd": {"lr": 1e-3},
    "momentum": {"lr": 2e-4},
    "nesterov": {"lr": 2e-4},
    "adaptive_gains": {"lr": 2e-4},
    "radam": {"lr": 1e-3},
}

#: torch.optim's defaults (torch 2.13), which ours must equal.
TORCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0},
    "adagrad": {
        "lr": 0.01,
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "rmsprop": {
        "lr": 0.01,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
    },
    "rprop": {"lr": 0.01, "eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
    "adamax": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "nadam": {"lr": 2e-3, "momentum_decay": 4e-3, "decoupled_weight_decay": False},
    "radam": {"lr": 1e-3, "eps": 1e-8, "decoupled_weight_decay": False},
    "lion": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    "textbook_adam": {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8},
    "adafactor": {"lr": 1e-2, "beta2_decay": -0.8, "eps2": 1e-3, "d": 1.0, "weight_decay": 0.0},
    "asgd": {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0.0},
    "lbfgs": {
        "lr": 1.0,
        "max_iter": 20,
        "tolerance_grad": 1e-7,
        "tolerance_change": 1e-9,
        "history_size": 100,
    },
    "muon": {
        "lr": 1e-3,
        "weight_decay": 0.1,
        "momentum": 0.95,
        "nesterov": True,
        "a": 3.4445,
        "b": -4.7750,
        "c": 2.0315,
        "eps": 1e-7,
        "ns_steps": 5,
    },
}


def bowl(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0.5 * sum((i + 1) w_i^2) per row, for any width."""
    curvature = np.arange(1.0, w.shape[-1] + 1)
    return 0.5 * (curvature * w * w).sum(axis=-1), curvature * w


def take_step(
    optimizer: Optimizer, params: np.ndarray, grads: np.ndarray, function=bowl
) -> None:
    """One step; families that evaluate the gradient again get ``function`` as closure."""
    if not optimizer.needs_closure:
        optimizer.step(params, grads)
        return

    def closure(points: np.ndarray, grad_out: np.ndarray, rows: Any) -> np.ndarray:
        values, gradient = function(points)
        grad_out[...] = gradient
        return values

    optimizer.step(params, grads, closure, function(params)[0])  # type: ignore[call-arg]


def run(
    name: str,
    rows: list[dict[str, Any]],
    start: np.ndarray,
    function=quadratic,
    steps: int = 200,
    dtype: type = np.float64,
) -> tuple[np.ndarray, Optimizer]:
    params = np.array(start, dtype=dtype).reshape(len(rows), -1).copy()
    grads = np.empty_like(params)
    optimizer = get_optimizer(name)(rows, dtype)
    optimizer.init_state(params)
    for _ in range(steps):
        grads[:] = function(params)[1]
        take_step(optimizer, params, grads, function)
    return params, optimizer


def noisy_gradients(params: np.ndarray, step: int) -> np.ndarray:
    """Deterministic per-(row, step) gradients with sign flips, for lockstep comparisons."""
    rng = np.random.default_rng(1000 + step)
    return CURVATURE.repeat(params.shape[1] // 2) * params + rng.normal(0, 0.5, params.shape)


# --------------------------------------------------------------------------- registry
def test_registry_order_and_metadata() -> None:
    assert NAMES[:9] == [
        "sgd", "momentum", "nesterov", "adaptive_gains", "adagrad", "adadelta", "rmsprop",
        "rprop", "adam",
    ]  # fmt: skip
    assert {"amsgrad", "adamw", "adamax", "nadam", "radam", "lion", "textbook_adam"} <= set(NAMES)
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name
        assert cls.summary and "\n" not in cls.summary and len(cls.summary) <= 100
        rule = update_rule(name)
        assert "Update rule" in rule and "Reference" in rule, name
        if issubclass(cls, Wrapper):  # the learning rate is the inner optimizer's
            assert cls.validate({}) == {**cls.defaults(), "inner": cls.default_inner}
            continue
        assert cls.hparams[0].name == "lr" and "learning_rate" in cls.hparams[0].aliases
        assert cls.validate({}) == cls.defaults()
    full_batch = {name for name, cls in OPTIMIZERS.items() if cls.full_batch_only}
    assert full_batch == {"rprop", "lbfgs"}


@pytest.mark.parametrize("name", TORCH_DEFAULTS)
def test_defaults_equal_torch(name: str) -> None:
    defaults = OPTIMIZERS[name].defaults()
    for key, value in TORCH_DEFAULTS[name].items():
        assert defaults[key] == value, f"{name}.{key}"


def test_course_adadelta_mapping_is_documented_where_users_look() -> None:
    for name in ("adadelta", "rmsprop"):
        assert "AdaDelta" in update_rule(name)
        assert "AdaDelta" in OPTIMIZERS[name].summary


def test_get_optimizer_forgives_case_and_suggests() -> None:
    assert get_optimizer("RMSprop") is OPTIMIZERS["rmsprop"]
    assert get_optimizer("Textbook-Adam") is OPTIMIZERS["textbook_adam"]
    with pytest.raises(UnknownNameError) as error:
        get_optimizer("rmsporp")
    message = str(error.value)
    assert "\n" not in message and "did you mean 'rmsprop'" in message and "allowed:" in message
    with pytest.raises(HyperparameterError):
        get_optimizer("adamm")


# --------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("name", NAMES)
def test_decreases_a_quadratic(name: str) -> None:
    start = np.array([1.0, 1.0])
    params, _ = run(name, [QUADRATIC_HPARAMS[name]], start)
    assert quadratic(params)[0][0] < 1e-2 * quadratic(start)[0]


@pytest.mark.parametrize("name", NAMES)
def test_makes_progress_on_rosenbrock(name: str) -> None:
    start = np.array([-1.2, 1.0])
    params, _ = run(name, [ROSENBROCK_HPARAMS[name]], start, rosenbrock, steps=1000)
    final = rosenbrock(params)[0][0]
    assert np.isfinite(final) and final < rosenbrock(start)[0] / 4


# --------------------------------------------------------------------------- validation
def _bad_values(name: str) -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = []
    for spec in OPTIMIZERS[name].hparams:
        if spec.kind == "bool":
            cases.append((spec.name, 1))
            continue
        cases.append((spec.name, "fast"))
        cases.append((spec.name, math.nan))
        if spec.low is not None:
            cases.append((spec.name, spec.low if spec.low_open else spec.low - 1.0))
        if spec.high is not None:
            cases.append((spec.name, spec.high if spec.high_open else spec.high + 1.0))
        if spec.kind == "int":
            cases.append((spec.name, 2.5))
    return cases


BAD = [(name, key, value) for name in NAMES for key, value in _bad_values(name)]


@pytest.mark.parametrize(("name", "key", "value"), BAD, ids=[f"{n}.{k}={v}" for n, k, v in BAD])
def test_out_of_range_values_give_one_line_errors(name: str, key: str, value: Any) -> None:
    with pytest.raises(HyperparameterError) as error:
        OPTIMIZERS[name]([{key: value}])
    message = str(error.value)
    assert "\n" not in message
    assert f"{name}.{key}" in message and repr(value) in message


def test_lr_range_names_the_allowed_values() -> None:
    with pytest.raises(HyperparameterError, match=r"adam\.lr must be a number in \(0, inf\)"):
        OPTIMIZERS["adam"]([{"lr": 0}])
    with pytest.raises(HyperparameterError, match=r"beta1 must be a number in \[0, 1\)"):
        OPTIMIZERS["adam"]([{"beta1": 1.0}])


@pytest.mark.parametrize(
    ("name", "given", "fragment"),
    [
        ("adam", {"betta1": 0.9}, "did you mean 'beta1'"),
        ("sgd", {"nesterov": True}, "sgd.nesterov needs momentum > 0 and dampening 0"),
        ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening"),
        ("adaptive_gains", {"gain_min": 5.0, "gain_max": 2.0}, "gain_min must be <= gain_max"),
        ("rprop", {"step_sizes": (1.0, 0.5)}, "step_min must be <= step_max"),
        ("rprop", {"etas": (0.5,)}, "rprop.etas must be a pair of numbers"),
        ("adam", {"betas": "0.9"}, "adam.betas must be a pair"),
        ("adam", {"lr": 0.1, "learning_rate": 0.2}, "both set lr"),
        ("adam", {"betas": (0.9, 0.99), "beta_2": 0.9}, "both set beta2"),
    ],
)
def test_combination_and_unknown_errors(name: str, given: dict, fragment: str) -> None:
    with pytest.raises(HyperparameterError) as error:
        OPTIMIZERS[name]([given])
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_rows_of_one_block_must_share_structural_flags() -> None:
    with pytest.raises(ValueError, match="differ in amsgrad"):
        OPTIMIZERS["adam"]([{"amsgrad": True}, {"amsgrad": False}])


# --------------------------------------------------------------------------- aliases
@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("adam", {"learning_rate": 0.1}, {"lr": 0.1}),
        ("adam", {"beta_1": 0.8, "beta_2": 0.95}, {"beta1": 0.8, "beta2": 0.95}),
        ("adam", {"betas": [0.8, 0.95]}, {"beta1": 0.8, "beta2": 0.95}),
        ("nadam", {"betas": (0.8, 0.95), "epsilon": 1e-7}, {"beta1": 0.8, "eps": 1e-7}),
        ("rmsprop", {"rho": 0.9}, {"alpha": 0.9}),
        ("adadelta", {"rho": 0.95}, {"rho": 0.95}),
        ("rprop", {"etas": (0.4, 1.3)}, {"eta_minus": 0.4, "eta_plus": 1.3}),
        ("rprop", {"step_sizes": (1e-5, 1.0)}, {"step_min": 1e-5, "step_max": 1.0}),
        ("momentum", {"momentum": 0.8}, {"gamma": 0.8}),
        ("textbook_adam", {"beta_2": 0.999}, {"beta2": 0.999}),
    ],
)
def test_keras_and_torch_aliases(name: str, given: dict, expected: dict) -> None:
    values = OPTIMIZERS[name].validate(given)
    for key, value in expected.items():
        assert values[key] == value


# --------------------------------------------------------------------------- lockstep rows
def _varied_rows(name: str) -> list[dict[str, Any]]:
    """Three rows of one block whose numeric hyperparameters all differ."""
    cls = OPTIMIZERS[name]
    rows = []
    for index, scale in enumerate((1.0, 1.1, 1.2)):
        row: dict[str, Any] = {}
        for spec in cls.hparams:
            if spec.kind == "bool":
                continue
            value = spec.default
            if spec.kind == "int":
                value = int(value) + 3 * index
            elif value == 0:
                value = 0.0 if index == 0 else 1e-3 * index
            elif spec.high is not None and spec.high <= 1 and value > 0.5:
                value = 1 - (1 - value) * scale
            else:
                value = value * scale
            row[spec.name] = value
        if name == "sgd":
            row["momentum"] = 0.5 + 0.2 * index
        rows.append(row)
    return rows


FLAG_VARIANTS = [
    (name, flags)
    for name in NAMES
    for flags in (
        [{}]
        + [{spec.name: not spec.default} for spec in OPTIMIZERS[name].hparams if spec.structural]
    )
]


@pytest.mark.parametrize(
    ("name", "flags"),
    FLAG_VARIANTS,
    ids=[f"{n}-{'-'.join(f) or 'default'}" for n, f in FLAG_VARIANTS],
)
def test_rows_in_one_block_equal_rows_run_alone(name: str, flags: dict) -> None:
    rows = [{**row, **flags} for row in _varied_rows(name)]
    if name == "sgd" and flags.get("nesterov"):
        rows = [{**row, "dampening": 0.0} for row in rows]
    rng = np.random.default_rng(3)
    start = rng.normal(size=(3, 6))
    block = start.copy()
    together = OPTIMIZERS[name](rows)
    together.init_state(block)
    alone = [OPTIMIZERS[name]([row]) for row in rows]
    singles = [start[i : i + 1].copy() for i in range(3)]
    for optimizer, single in zip(alone, singles, strict=True):
        optimizer.init_state(single)
    for step in range(40):
        grads = noisy_gradients(block, step)
        take_step(together, block, grads)
        for i, (optimizer, single) in enumerate(zip(alone, singles, strict=True)):
            take_step(optimizer, single, grads[i : i + 1].copy())
    for i in range(3):
        np.testing.assert_allclose(block[i], singles[i][0], rtol=1e-13, atol=1e-300)
    assert not np.allclose(block[0], block[1])  # the rows really did differ


@pytest.mark.parametrize("name", NAMES)
def test_row_state_round_trip_continues_identically(name: str) -> None:
    rows = _varied_rows(name)
    rng = np.random.default_rng(5)
    block = rng.normal(size=(3, 4))
    optimizer = OPTIMIZERS[name](rows)
    optimizer.init_state(block)
    for step in range(15):
        take_step(optimizer, block, noisy_gradients(block, step))
    saved = optimizer.row_state(1)
    fork = OPTIMIZERS[name]([rows[1]])
    forked_params = block[1:2].copy()
    fork.init_state(forked_params)
    fork.set_row_state(0, saved)
    assert fork.t[0, 0] == 15
    for step in range(15, 30):
        grads = noisy_gradients(block, step)
        take_step(optimizer, block, grads)
        take_step(fork, forked_params, grads[1:2].copy())
    np.testing.assert_allclose(forked_params[0], block[1], rtol=1e-13, atol=1e-300)
    if saved["state"]:  # a stateless rule (fromage) has nothing to copy
        saved["state"][next(iter(saved["state"]))][...] = 123.0  # a copy, not a view
        assert not np.any(next(iter(optimizer.state.values()))[1] == 123.0)


@pytest.mark.parametrize("name", NAMES)
def test_updates_a_view_in_place_and_leaves_grads_alone(name: str) -> None:
    everything = np.ones((5, 4))
    view = everything[1:3]
    row = {"weight_decay": 0.01} if "weight_decay" in OPTIMIZERS[name].defaults() else {}
    optimizer = OPTIMIZERS[name]([row, row])
    optimizer.init_state(view)
    grads = np.full((2, 4), 0.5)
    for _ in range(3):
        take_step(optimizer, view, grads)
    assert np.all(grads == 0.5)
    assert np.all(everything[[0, 3, 4]] == 1.0)
    assert np.all(everything[1:3] != 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_float32_works_and_tracks_float64(name: str) -> None:
    start = np.array([1.0, 1.0])
    hparams = [QUADRATIC_HPARAMS[name]]
    p32, opt32 = run(name, hparams, start, steps=30, dtype=np.float32)
    p64, _ = run(name, hparams, start, steps=30)
    assert p32.dtype == np.float32
    assert all(array.dtype == np.float32 for array in opt32.state.values())
    assert opt32.lr.dtype == np.float32
    assert quadratic(p32.astype(np.float64))[0][0] < quadratic(start)[0]
    np.testing.assert_allclose(p32[0], p64[0], atol=2e-3)


@pytest.mark.parametrize("name", NAMES)
def test_effective_step_is_finite_and_positive(name: str) -> None:
    _, optimizer = run(name, [QUADRATIC_HPARAMS[name]], np.array([1.0, 1.0]), steps=20)
    step = np.broadcast_to(optimizer.effective_step(), (1, 2))
    assert np.all(np.isfinite(step)) and np.all(step > 0)


def test_adagrad_effective_step_keeps_falling() -> None:
    params = np.array([[1.0, 1.0]])
    optimizer = OPTIMIZERS["adagrad"]([{"lr": 0.1}])
    optimizer.init_state(params)
    previous = np.inf
    for _ in range(50):
        optimizer.step(params, np.array([[0.3, -0.2]]))
        current = float(optimizer.effective_step()[0, 0])
        assert current < previous
        previous = current
    assert math.isclose(previous, 0.1 / (math.sqrt(50 * 0.09) + 1e-10), rel_tol=1e-12)


def test_lr_scale_multiplies_the_learning_rate() -> None:
    scaled, halved = np.ones((1, 3)), np.ones((1, 3))
    a = OPTIMIZERS["sgd"]([{"lr": 0.1, "momentum": 0.9}])
    b = OPTIMIZERS["sgd"]([{"lr": 0.05, "momentum": 0.9}])
    a.init_state(scaled)
    b.init_state(halved)
    a.lr_scale[:] = 0.5
    for _ in range(5):
        a.step(scaled, scaled * 2)
        b.step(halved, halved * 2)
    np.testing.assert_allclose(scaled, halved, rtol=1e-15)


def test_set_hparam_changes_one_row_live() -> None:
    optimizer = OPTIMIZERS["adam"]([{}, {}])
    optimizer.set_hparam(1, "learning_rate", 0.5)
    assert optimizer.h["lr"][:, 0].tolist() == [1e-3, 0.5]
    with pytest.raises(HyperparameterError, match="cannot change during a race"):
        optimizer.set_hparam(0, "amsgrad", True)
    with pytest.raises(HyperparameterError, match=r"adam\.lr must be"):
        optimizer.set_hparam(0, "lr", -1.0)
    with pytest.raises(HyperparameterError, match="no hyperparameter"):
        optimizer.set_hparam(0, "gamma", 0.5)


# --------------------------------------------------------------------------- course rules
def test_textbook_adam_matches_the_course_formula_and_differs_from_adam() -> None:
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8
    w = np.array([0.5, -1.5, 2.0])
    m, v = np.zeros(3), np.zeros(3)
    params = w.reshape(1, -1).copy()
    optimizer = OPTIMIZERS["textbook_adam"]([{}])
    optimizer.init_state(params)
    adam_params = params.copy()
    adam = OPTIMIZERS["adam"]([{"lr": lr, "betas": (b1, b2), "eps": eps}])
    adam.init_state(adam_params)
    for _ in range(20):
        g = CURVATURE.mean() * w + np.sin(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        w = w - lr * (m / (1 - b1)) / (eps + np.sqrt(v / (1 - b2)))
        optimizer.step(params, (CURVATURE.mean() * params + np.sin(params)))
        adam.step(adam_params, (CURVATURE.mean() * adam_params + np.sin(adam_params)))
    np.testing.assert_allclose(params[0], w, rtol=1e-13)
    assert np.max(np.abs(params - adam_params)) > 1e-3


def test_textbook_adam_equals_adam_at_step_one() -> None:
    grads = np.array([[0.3, -2.0, 5.0]])
    a, b = np.zeros((1, 3)), np.zeros((1, 3))
    textbook = OPTIMIZERS["textbook_adam"]([{}])
    adam = OPTIMIZERS["adam"]([{"lr": 0.01, "beta2": 0.99}])
    textbook.init_state(a)
    adam.init_state(b)
    textbook.step(a, grads)
    adam.step(b, grads)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_momentum_matches_the_course_formula_with_a_rising_gamma() -> None:
    hparams = {"lr": 0.02, "gamma": 0.99, "gamma_start": 0.5, "gamma_rise": 10}
    optimizer = OPTIMIZERS["momentum"]([hparams])
    params = np.array([[1.0, -1.0]])
    optimizer.init_state(params)
    w, v = params[0].copy(), np.zeros(2)
    gammas = []
    for t in range(1, 16):
        gamma = 0.5 + (0.99 - 0.5) * min(1.0, (t - 1) / 10)
        gammas.append(gamma)
        v = gamma * v - 0.02 * (CURVATURE * w)
        w = w + v
        optimizer.step(params, quadratic(params)[1])
    np.testing.assert_allclose(params[0], w, rtol=1e-13)
    assert gammas[0] == 0.5 and gammas[10] == 0.99
    t = np.array([[1.0], [6.0], [11.0], [50.0]])
    h = {k: np.repeat(v, 4, axis=0) for k, v in optimizer.h.items()}
    np.testing.assert_allclose(scheduled_gamma(h, t)[:, 0], [0.5, 0.745, 0.99, 0.99])


def test_momentum_plateau_step_tends_to_lr_over_one_minus_gamma() -> None:
    optimizer = OPTIMIZERS["momentum"]([{"lr": 0.01, "gamma": 0.9}])
    params = np.zeros((1, 1))
    optimizer.init_state(params)
    for _ in range(300):
        before = params.copy()
        optimizer.step(params, np.array([[2.0]]))
    assert math.isclose((params - before).item(), -0.01 / (1 - 0.9) * 2.0, rel_tol=1e-9)


def test_momentum_equals_torch_style_sgd_momentum_at_constant_lr() -> None:
    course, _ = run("momentum", [{"lr": 0.01, "gamma": 0.9}], np.array([1.0, 1.0]), steps=50)
    torch_style, _ = run("sgd", [{"lr": 0.01, "momentum": 0.9}], np.array([1.0, 1.0]), steps=50)
    np.testing.assert_allclose(course, torch_style, rtol=1e-12)


@pytest.mark.parametrize("function", [quadratic, rosenbrock])
@pytest.mark.parametrize(
    "hparams",
    [{"lr": 1e-3, "gamma": 0.9}, {"lr": 5e-4, "gamma": 0.99, "gamma_start": 0.5, "gamma_rise": 20}],
)
def test_nesterov_equals_the_literal_look_ahead_form(function, hparams: dict) -> None:
    """Run v = g_t v - lr grad(w + g_t v); w += v literally and compare with ours."""
    optimizer = OPTIMIZERS["nesterov"]([hparams])
    lr = hparams["lr"]
    start = np.array([-1.2, 1.0])
    params = start.reshape(1, -1).copy()
    optimizer.init_state(params)
    w, v = start.copy(), np.zeros(2)
    for t in range(1, 101):
        gamma = float(scheduled_gamma(optimizer.h, np.array([[t]]))[0, 0])
        look_ahead = w + gamma * v
        v = gamma * v - lr * function(look_ahead[None])[1][0]
        w = w + v
        optimizer.step(params, function(params)[1])
        # ours holds the next look-ahead point u = w + gamma_{t+1} v
        next_gamma = float(scheduled_gamma(optimizer.h, np.array([[t + 1]]))[0, 0])
        np.testing.assert_allclose(params[0], w + next_gamma * v, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(optimizer.state["velocity"][0], v, rtol=1e-10, atol=1e-14)
    assert function(w[None])[0][0] < function(start[None])[0][0]


def test_adaptive_gains_rule() -> None:
    optimizer = OPTIMIZERS["adaptive_gains"]([{"lr": 0.1, "gain_min": 0.5, "gain_max": 1.12}])
    params = np.zeros((1, 4))
    optimizer.init_state(params)
    sequence = [
        [1.0, 1.0, 1.0, 0.0],  # first step: no previous sign, gains stay 1
        [2.0, -1.0, 1.0, 3.0],  # repeat, flip, repeat, zero product
        [3.0, 1.0, 1.0, 3.0],  # repeat, flip, repeat (clamped at 1.12), repeat
        [4.0, -1.0, -1.0, 3.0],
    ]
    expected_gains = [
        [1.0, 1.0, 1.0, 1.0],
        [1.05, 0.95, 1.05, 1.0],
        [1.10, 0.95 * 0.95, 1.10, 1.05],
        [1.12, 0.95**3, 1.10 * 0.95, 1.10],
    ]
    w = np.zeros(4)
    for grads, gains in zip(sequence, expected_gains, strict=True):
        optimizer.step(params, np.array([grads]))
        np.testing.assert_allclose(optimizer.state["gains"][0], gains, rtol=1e-14)
        w -= 0.1 * np.array(gains) * np.array(grads)
    np.testing.assert_allclose(params[0], w, rtol=1e-14)
    for _ in range(40):
        optimizer.step(params, np.array([[1.0, -1.0, 1.0, -1.0]]) * (-1) ** _)
    assert optimizer.state["gains"].min() >= 0.5 and optimizer.state["gains"].max() <= 1.12
    assert math.isclose(optimizer.state["gains"].min(), 0.5)


def test_rprop_ignores_gradient_magnitude() -> None:
    small, large = np.zeros((1, 2)), np.zeros((1, 2))
    a, b = OPTIMIZERS["rprop"]([{}]), OPTIMIZERS["rprop"]([{}])
    a.init_state(small)
    b.init_state(large)
    for t in range(10):
        grads = np.array([[1.0, (-1.0) ** t]])
        a.step(small, grads * 1e-3)
        b.step(large, grads * 1e3)
    np.testing.assert_array_equal(small, large)
    assert math.isclose(a.effective_step()[0, 0], 0.01 * 1.2**9)
