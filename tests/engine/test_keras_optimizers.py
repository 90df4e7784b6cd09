"""Every keras-flavor optimizer: the registry API, Keras' defaults and spellings, validation,
lockstep rows (also per tensor), row surgery, in-place updates, float32."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tui_optim.engine.errors import UnknownNameError
from tui_optim.engine.optimizers import (
    FLAVORS,
    KERAS_EQUIVALENTS,
    OPTIMIZERS,
    HyperparameterError,
    Optimizer,
    UnknownOptimizerError,
    get_optimizer,
    registry,
    update_rule,
)
from tui_optim.engine.optimizers.base import Tensor

KERAS = registry("keras")
NAMES = list(KERAS)

#: Keras 3.15's defaults (its constructors' signatures), which ours must equal.
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    "rmsprop": {"lr": 1e-3, "rho": 0.9, "momentum": 0.0, "eps": 1e-7, "centered": False},
    "adagrad": {"lr": 1e-3, "initial_accumulator_value": 0.1, "eps": 1e-7},
    "adadelta": {"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7, "amsgrad": False},
    "amsgrad": {"lr": 1e-3, "eps": 1e-7, "amsgrad": True, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "weight_decay": 0.004, "eps": 1e-7, "amsgrad": False},
    "adamax": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "nadam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "lion": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    "adafactor": {
        "lr": 1e-3, "beta2_decay": -0.8, "eps1": 1e-30, "eps2": 1e-3, "clip_threshold": 1.0,
        "relative_step": True,
    },
    "lamb": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "ftrl": {
        "lr": 1e-3, "lr_power": -0.5, "initial_accumulator_value": 0.1, "l1": 0.0, "l2": 0.0,
        "l2_shrinkage": 0.0, "beta": 0.0,
    },
    "muon": {
        "lr": 1e-3, "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_weight_decay": 0.004,
        "eps": 1e-7, "weight_decay": 0.004, "muon_a": 3.4445, "muon_b": -4.7750,
        "muon_c": 2.0315, "adam_lr_ratio": 1.0, "momentum": 0.95, "ns_steps": 5,
        "nesterov": True, "rms_rate": 0.2,
    },
}  # fmt: skip

#: A 4 x 2 weight matrix and its bias: 10 columns, for the rules that act per tensor (no
#: dimension equals the 3 rows of the lockstep tests, so a broadcast over rows cannot hide).
TENSORS = (Tensor("W1", slice(0, 8), (4, 2)), Tensor("b1", slice(8, 10), (2,)))
COLUMNS = 10


def noisy_gradients(params: np.ndarray, step: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + step)
    return params + rng.normal(0, 0.5, params.shape)


def _make(name: str, rows: list[dict[str, Any]], params: np.ndarray, tensors: bool) -> Optimizer:
    optimizer = KERAS[name](rows)
    if tensors:
        optimizer.tensors = TENSORS
    optimizer.init_state(params)
    return optimizer


#: Muon's tuned iteration coefficients (scaled, the iteration diverges) and the clipping
#: switches (at most one per row; tested on their own below).
NOT_VARIED = ("muon_a", "muon_b", "muon_c", "clipnorm", "global_clipnorm", "clipvalue")


def _varied_rows(name: str) -> list[dict[str, Any]]:
    """Three rows of one block whose numeric hyperparameters all differ."""
    rows = []
    for index, scale in enumerate((1.0, 1.1, 1.2)):
        row: dict[str, Any] = {}
        for spec in KERAS[name].hparams:
            value = spec.default
            if spec.kind == "bool" or spec.name in NOT_VARIED:
                continue
            if spec.kind == "int":
                value = int(value) + index
            elif value == 0:
                value = 0.0 if index == 0 else 1e-3 * index
            elif spec.high is not None and spec.high <= 1 and 0.5 < value < 1:
                value = 1 - (1 - value) * scale
            else:
                value = value * scale
            row[spec.name] = value
        if name in ("sgd", "rmsprop"):
            row["momentum"] = 0.5 + 0.2 * index
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- registry
def test_registry_api() -> None:
    assert FLAVORS == ("torch", "keras")
    assert registry("torch") is OPTIMIZERS and registry() is OPTIMIZERS
    assert set(NAMES) == set(KERAS_DEFAULTS) == set(KERAS_EQUIVALENTS)
    assert get_optimizer("RMSprop", flavor="keras") is KERAS["rmsprop"]
    assert get_optimizer("rmsprop") is not KERAS["rmsprop"]
    for name, cls in KERAS.items():
        assert cls.name == name and cls.flavor == "keras"
        assert cls.summary and "\n" not in cls.summary and len(cls.summary) <= 100
        rule = update_rule(name, "keras")
        assert "Update rule" in rule and "Reference" in rule and "keras.io" in rule, name
    assert all(cls.flavor == "torch" for cls in OPTIMIZERS.values())


def test_unknown_names_and_flavors_say_what_exists() -> None:
    with pytest.raises(UnknownOptimizerError) as error:
        get_optimizer("momentum", "keras")
    assert "exists in flavor torch" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(UnknownOptimizerError, match="did you mean 'adam'"):
        get_optimizer("adma", "keras")
    with pytest.raises(UnknownOptimizerError, match="exists in flavor keras"):
        get_optimizer("ftrl")
    with pytest.raises(UnknownNameError, match=r"unknown flavor 'jax'.*allowed: torch, keras"):
        get_optimizer("adam", "jax")


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_keras_defaults(name: str) -> None:
    defaults = KERAS[name].defaults()
    for key, value in KERAS_DEFAULTS[name].items():
        assert defaults[key] == value, key
    assert defaults["weight_decay"] == KERAS_DEFAULTS[name].get("weight_decay", 0.0) or name in (
        "adamw",
        "muon",
    )


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("adam", {"learning_rate": 0.1, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3},
         {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-3}),
        ("adagrad", {"initial_accumulator_value": 0.0}, {"initial_accumulator_value": 0.0}),
        ("ftrl", {"learning_rate_power": -1.0, "l1_regularization_strength": 0.1,
                  "l2_regularization_strength": 0.2, "l2_shrinkage_regularization_strength": 0.3},
         {"lr_power": -1.0, "l1": 0.1, "l2": 0.2, "l2_shrinkage": 0.3}),
        ("adafactor", {"beta_2_decay": -0.5, "epsilon_1": 1e-20, "epsilon_2": 0.01},
         {"beta2_decay": -0.5, "eps1": 1e-20, "eps2": 0.01}),
        ("muon", {"adam_beta_1": 0.8, "adam_beta_2": 0.9}, {"adam_beta1": 0.8, "adam_beta2": 0.9}),
    ],
)  # fmt: skip
def test_keras_spellings(name: str, given: dict, expected: dict) -> None:
    values = KERAS[name].validate(given)
    for key, value in expected.items():
        assert values[key] == value


def _bad_values(name: str) -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = []
    for spec in KERAS[name].hparams:
        if spec.kind == "bool":
            cases.append((spec.name, 1))
            continue
        cases.append((spec.name, "fast"))
        cases.append((spec.name, math.inf))
        if spec.low is not None:
            cases.append((spec.name, spec.low if spec.low_open else spec.low - 1.0))
        if spec.high is not None:
            cases.append((spec.name, spec.high if spec.high_open else spec.high + 1.0))
    return cases


BAD = [(name, key, value) for name in NAMES for key, value in _bad_values(name)]


@pytest.mark.parametrize(("name", "key", "value"), BAD, ids=[f"{n}.{k}={v}" for n, k, v in BAD])
def test_out_of_range_values_give_one_line_errors(name: str, key: str, value: Any) -> None:
    with pytest.raises(HyperparameterError) as error:
        KERAS[name]([{key: value}])
    message = str(error.value)
    assert "\n" not in message and f"{name}.{key}" in message and repr(value) in message


def test_lion_refuses_beta1_zero_as_keras_does() -> None:
    with pytest.raises(HyperparameterError, match="SignSGD"):
        KERAS["lion"]([{"beta_1": 0.0}])


# --------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("name", NAMES)
def test_decreases_a_quadratic(name: str) -> None:
    params = np.ones((1, COLUMNS))
    optimizer = _make(name, [{"lr": 1.0 if name == "adadelta" else 0.05}], params, True)
    start = float(np.sum(params**2))
    for _ in range(300):
        optimizer.step(params, params.copy())
    assert np.all(np.isfinite(params)) and float(np.sum(params**2)) < 0.5 * start


FLAG_VARIANTS = [
    (name, flags)
    for name in NAMES
    for flags in [{}] + [{s.name: not s.default} for s in KERAS[name].hparams if s.structural]
]


@pytest.mark.parametrize(
    ("name", "flags"),
    FLAG_VARIANTS,
    ids=[f"{n}-{'-'.join(f) or 'default'}" for n, f in FLAG_VARIANTS],
)
def test_rows_in_one_block_equal_rows_run_alone(name: str, flags: dict) -> None:
    rows = [{**row, **flags} for row in _varied_rows(name)]
    start = np.random.default_rng(3).normal(size=(3, COLUMNS))
    block = start.copy()
    together = _make(name, rows, block, tensors=True)
    singles = [start[i : i + 1].copy() for i in range(3)]
    alone = [_make(name, [row], single, True) for row, single in zip(rows, singles, strict=True)]
    for step in range(30):
        grads = noisy_gradients(block, step)
        together.step(block, grads)
        for i, (optimizer, single) in enumerate(zip(alone, singles, strict=True)):
            optimizer.step(single, grads[i : i + 1].copy())
    for i in range(3):
        np.testing.assert_allclose(block[i], singles[i][0], rtol=1e-13, atol=1e-300)
    assert not np.allclose(block[0], block[1])


@pytest.mark.parametrize("name", NAMES)
def test_row_state_round_trip_continues_identically(name: str) -> None:
    rows = _varied_rows(name)
    block = np.random.default_rng(5).normal(size=(3, COLUMNS))
    optimizer = _make(name, rows, block, tensors=True)
    for step in range(15):
        optimizer.step(block, noisy_gradients(block, step))
    forked_params = block[1:2].copy()
    fork = _make(name, [rows[1]], forked_params, tensors=True)
    fork.set_row_state(0, optimizer.row_state(1))
    for step in range(15, 30):
        grads = noisy_gradients(block, step)
        optimizer.step(block, grads)
        fork.step(forked_params, grads[1:2].copy())
    np.testing.assert_allclose(forked_params[0], block[1], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_updates_a_view_in_place_and_leaves_grads_alone(name: str) -> None:
    everything = np.ones((5, COLUMNS))
    view = everything[1:3]
    optimizer = _make(name, [{"weight_decay": 0.01}] * 2, view, tensors=True)
    grads = np.linspace(-1, 1, 2 * COLUMNS).reshape(2, COLUMNS)
    for _ in range(3):
        optimizer.step(view, grads)
    assert np.all(grads == np.linspace(-1, 1, 2 * COLUMNS).reshape(2, COLUMNS))
    assert np.all(everything[[0, 3, 4]] == 1.0)
    assert np.all(everything[1:3] != 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_float32_works_and_tracks_float64(name: str) -> None:
    results = {}
    for dtype in (np.float32, np.float64):
        params = np.linspace(-1, 1, COLUMNS, dtype=dtype).reshape(1, COLUMNS)
        optimizer = KERAS[name]([{"lr": 0.01}], dtype)
        optimizer.tensors = TENSORS
        optimizer.init_state(params)
        for _ in range(20):
            optimizer.step(params, params * 2)
        assert params.dtype == dtype
        assert all(array.dtype == dtype for array in optimizer.state.values())
        results[dtype] = params[0].astype(np.float64)
    np.testing.assert_allclose(results[np.float32], results[np.float64], atol=2e-3)


@pytest.mark.parametrize("name", NAMES)
def test_effective_step_is_finite_and_positive(name: str) -> None:
    params = np.ones((1, COLUMNS))
    optimizer = _make(name, [{}], params, tensors=True)
    for _ in range(5):
        optimizer.step(params, params * 0.5)
    step = np.broadcast_to(optimizer.effective_step(), (1, COLUMNS))
    assert np.all(np.isfinite(step)) and np.all(step > 0)


def test_weight_decay_is_keras_decoupled_decay_before_the_rule() -> None:
    """Keras' base optimizer: w *= 1 - lr * weight_decay, then the rule with the raw g."""
    decayed, plain = np.full((1, 2), 2.0), np.full((1, 2), 2.0 * (1 - 0.1 * 0.5))
    a = _make("sgd", [{"lr": 0.1, "weight_decay": 0.5}], decayed, tensors=False)
    b = _make("sgd", [{"lr": 0.1}], plain, tensors=False)
    a.step(decayed, np.array([[1.0, -1.0]]))
    b.step(plain, np.array([[1.0, -1.0]]))
    np.testing.assert_array_equal(decayed, plain)


def test_keras_adagrad_starts_its_accumulator_at_0_1() -> None:
    """Adagrad's first step in each flavor: torch's sum starts at 0, so every weight moves by
    lr; Keras' starts at 0.1, so a small gradient moves its weight much less."""
    grads = np.array([[0.01, 1.0]])
    first_step = {}
    for flavor in FLAVORS:
        params = np.zeros((1, 2))
        optimizer = get_optimizer("adagrad", flavor)([{"lr": 0.1}])
        optimizer.init_state(params)
        optimizer.step(params, grads)
        first_step[flavor] = params[0]
    np.testing.assert_allclose(first_step["torch"], [-0.1, -0.1], rtol=1e-7)
    expected = -0.1 * grads[0] / np.sqrt(0.1 + grads[0] ** 2 + 1e-7)
    np.testing.assert_allclose(first_step["keras"], expected, rtol=1e-15)


def test_per_tensor_rules_see_each_tensor() -> None:
    """Lamb's trust ratio is per tensor: the same gradient steps the matrix and the bias
    by lr times each one's own norm."""
    params = np.concatenate([np.full(8, 3.0), np.full(2, 0.5)]).reshape(1, COLUMNS)
    start = params.copy()
    optimizer = _make("lamb", [{"lr": 0.1}], params, tensors=True)
    optimizer.step(params, np.ones((1, COLUMNS)))
    moved = start - params
    np.testing.assert_allclose(np.linalg.norm(moved[0, :8]), 0.1 * np.linalg.norm(start[0, :8]))
    np.testing.assert_allclose(np.linalg.norm(moved[0, 8:]), 0.1 * np.linalg.norm(start[0, 8:]))


def test_one_clipping_at_a_time() -> None:
    with pytest.raises(HyperparameterError) as error:
        KERAS["adam"]([{"clipnorm": 1.0, "clipvalue": 0.5}])
    assert str(error.value) == (
        "adam: set at most one of clipnorm, global_clipnorm and clipvalue, "
        "got clipnorm=1.0, clipvalue=0.5"
    )


@pytest.mark.parametrize("name", ["sgd", "adam", "lamb", "muon"])
def test_rows_that_clip_differently_equal_rows_run_alone(name: str) -> None:
    """clipnorm per tensor, global_clipnorm per row, clipvalue per element, no clipping."""
    rows = [
        {"lr": 0.05, "clipnorm": 0.5},
        {"lr": 0.05, "global_clipnorm": 0.7},
        {"lr": 0.05, "clipvalue": 0.3},
        {"lr": 0.05},
    ]
    start = np.random.default_rng(9).normal(size=(4, COLUMNS))
    block = start.copy()
    together = _make(name, rows, block, tensors=True)
    singles = [start[i : i + 1].copy() for i in range(4)]
    alone = [_make(name, [row], single, True) for row, single in zip(rows, singles, strict=True)]
    for step in range(20):
        grads = 3 * noisy_gradients(block, step)
        kept = grads.copy()
        together.step(block, grads)
        assert np.array_equal(grads, kept)  # clipping works on a copy
        for i, (optimizer, single) in enumerate(zip(alone, singles, strict=True)):
            optimizer.step(single, grads[i : i + 1].copy())
    for i in range(4):
        np.testing.assert_allclose(block[i], singles[i][0], rtol=1e-13, atol=1e-300)


def test_clipping_rules() -> None:
    """One SGD step shows each clipping: the per-tensor norm, the global norm, the value."""
    grads = np.array([[3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0]])
    steps = {}
    for clip in ({"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 1.0}):
        params = np.zeros((1, COLUMNS))
        _make("sgd", [{"lr": 1.0, **clip}], params, tensors=True).step(params, grads)
        steps[next(iter(clip))] = -params[0]
    np.testing.assert_allclose(steps["clipnorm"][[0, 1, 9]], [0.6, 0.8, 1.0])  # W1, b1 apart
    np.testing.assert_allclose(steps["global_clipnorm"][[0, 1, 9]], [3 / 13, 4 / 13, 12 / 13])
    np.testing.assert_allclose(steps["clipvalue"][[0, 1, 9]], [1.0, 1.0, 1.0])
