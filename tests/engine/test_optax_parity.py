"""Our optax families reproduce optax 0.2.8 step for step, each weight matrix and bias a
tensor of its own (fixtures from scripts/make_optax_fixtures.py; jax and optax are not
needed here)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import parity
import pytest

from tui_optim.engine.data import Dataset
from tui_optim.engine.optimizers import (
    OPTAX_EQUIVALENTS,
    OPTIMIZERS,
    HyperparameterError,
    get_optimizer,
)
from tui_optim.engine.problems import MLPProblem

ARRAYS = parity.load_fixture("optax_parity.npz")
CASES = parity.cases_of(ARRAYS)
CASE_IDS = [case["case"] for case in CASES]
SIGNATURES: dict[str, dict[str, Any]] = json.loads(str(ARRAYS["signatures"]))

#: optax keywords we do not offer: pytree masks, dtypes and a clipping function have no
#: meaning for a flat row of one dtype (every tensor is decayed and scaled, as optax's
#: default masks do).
NOT_OFFERED = {
    "mask",
    "weight_decay_mask",
    "trust_ratio_mask",
    "mu_dtype",
    "accumulator_dtype",
    "state_dtype",
    "clip_value_fn",
}
#: optax keywords whose default None stands for a value (optax's own rule).
NONE_MEANS = {
    ("schedule_free_adamw", "warmup_steps"): 0,
    ("prodigy", "beta3"): math.sqrt(0.999),
}


def _problem() -> MLPProblem:
    x, y = ARRAYS["x"], ARRAYS["y"]
    data = Dataset(
        name="iris15",
        task="classification",
        X_train=x,
        Y_train=y,
        X_val=x[:0],
        Y_val=y[:0],
        labels_train=y.argmax(axis=1),
        labels_val=None,
        classes=("setosa", "versicolor", "virginica"),
        feature_names=("a", "b", "c", "d"),
        encoding="onehot",
    )
    return MLPProblem(parity.fixture_mlp(ARRAYS), data)


PROBLEM = _problem()


def _replay(case: dict, use_optax_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step (of the weights
    and, for schedule-free cases, of the evaluation point too)."""
    optimizer = get_optimizer(case["optimizer"])([case["hparams"]], np.float64)
    optimizer.tensors = PROBLEM.tensors()

    def gradient(params: np.ndarray, grads: np.ndarray) -> None:
        PROBLEM.loss_and_grad(params, None, grads)

    return parity.replay(ARRAYS, case["case"], optimizer, gradient, use_optax_grads)


def test_fixture_covers_every_optax_optimizer() -> None:
    covered = {case["optimizer"] for case in CASES}
    assert covered == set(OPTAX_EQUIVALENTS)
    assert set(OPTAX_EQUIVALENTS) <= set(OPTIMIZERS)
    assert all(ARRAYS[f"{case}/grads"].shape[0] >= 100 for case in CASE_IDS)
    # at least one case of each optimizer sets hyperparameters other than the lr
    for name in OPTAX_EQUIVALENTS:
        assert any(
            case["optimizer"] == name and set(case["hparams"]) - {"lr", "learning_rate"}
            for case in CASES
        ), name


@pytest.mark.parametrize("name", list(OPTAX_EQUIVALENTS))
def test_defaults_and_spellings_equal_optax(name: str) -> None:
    """Every keyword of the optax function is accepted under its optax name with optax's
    default (optax has no default learning rate for most: ours is then our choice), or is
    one of the few refused ones."""
    cls = OPTIMIZERS[name]
    defaults = cls.defaults()
    for keyword, default in SIGNATURES[name].items():
        if keyword in NOT_OFFERED:
            with pytest.raises(HyperparameterError, match="has no hyperparameter"):
                cls.validate({keyword: 1})
            continue
        if keyword in cls.pair_aliases:
            pairs = list(zip(cls.pair_aliases[keyword], default, strict=True))
        else:
            canonical = cls.canonical_name(keyword)
            assert canonical is not None, f"{name} does not accept optax's {keyword!r}"
            if default == "<required>":
                continue
            pairs = [(canonical, NONE_MEANS.get((name, keyword), default))]
        for canonical, value in pairs:
            assert defaults[canonical] == value, f"{name}.{canonical}"


def test_prodigy_beta3_follows_beta2_unless_given() -> None:
    prodigy = OPTIMIZERS["prodigy"]
    assert prodigy.validate({"betas": [0.9, 0.99]})["beta3"] == 0.99**0.5
    assert prodigy.validate({"beta2": 0.99, "beta3": 0.5})["beta3"] == 0.5


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_optax_with_optax_gradients(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_optax_grads=True))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_optax_with_our_mlp(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_optax_grads=False))


def test_the_runs_move_far_from_the_start() -> None:
    parity.assert_runs_move(ARRAYS, CASE_IDS)


def test_tensors_out_of_column_order_give_the_same_steps() -> None:
    """Per-tensor rules take a fast path when the tensors tile the row in order (an MLP's
    do) and a per-tensor loop otherwise; both give the same trajectory."""
    tensors = PROBLEM.tensors()
    for name in ("lamb", "lars", "fromage", "novograd", "prodigy"):
        rows = []
        for order in (tensors, tensors[::-1]):
            params = ARRAYS["init"].reshape(1, -1).copy()
            optimizer = OPTIMIZERS[name]([{}])
            optimizer.tensors = order
            optimizer.init_state(params)
            for step in range(5):
                optimizer.step(params, np.sin(3 * params + step))
            rows.append(params[0])
        np.testing.assert_allclose(rows[1], rows[0], rtol=1e-14, atol=0, err_msg=name)


NUMERATORS = {
    "adabelief": lambda o: o.state["mu"] / (1 - o.h["beta1"] ** o.t),
    "yogi": lambda o: o.state["mu"] / (1 - o.h["beta1"] ** o.t),
    "ademamix": lambda o: o.state["m1"] / (1 - o.h["beta1"] ** o.t)
    + o.h["alpha"] * o.state["m2"],
    "adan": lambda o: o.state["m"] / (1 - o.h["beta1"] ** o.t)
    + (1 - o.h["beta2"]) * o.state["v"] / (1 - o.h["beta2"] ** o.t),
    "prodigy": lambda o: o.state["exp_avg"] / o.state["estim_lr"],
}


@pytest.mark.parametrize("name", list(NUMERATORS))
def test_effective_step_times_the_momentum_is_the_step(name: str) -> None:
    """The effective step the race shows is what multiplies the momentum in the update."""
    params = ARRAYS["init"].reshape(1, -1).copy()
    optimizer = OPTIMIZERS[name]([{"lr": 0.01}])
    optimizer.tensors = PROBLEM.tensors()
    optimizer.init_state(params)
    for step in range(6):
        before = params.copy()
        optimizer.step(params, np.sin(3 * params + step))
    taken = before - params
    expected = optimizer.effective_step() * NUMERATORS[name](optimizer)
    # before - params loses the digits of params below its own last bit: atol for that
    np.testing.assert_allclose(taken, expected, rtol=1e-9, atol=1e-15 * np.abs(params).max())
