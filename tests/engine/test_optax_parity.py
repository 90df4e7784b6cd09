"""Our optax families reproduce optax 0.2.8 step for step, each weight matrix and bias a
tensor of its own (fixtures from scripts/make_optax_fixtures.py; jax and optax are not
needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine.data import Dataset
from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import OPTAX_EQUIVALENTS, OPTIMIZERS, get_optimizer
from tui_optim.engine.problems import MLPProblem

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "optax_parity.npz"
TOLERANCE = 1e-12


def _load() -> tuple[dict[str, np.ndarray], list[dict]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads(str(arrays["cases"]))


ARRAYS, CASES = _load()
CASE_IDS = [case["case"] for case in CASES]


def _problem() -> MLPProblem:
    x, y = ARRAYS["x"], ARRAYS["y"]
    mlp = MLP(
        layers=[int(n) for n in ARRAYS["layers"]],
        hidden="tanh",
        output="softmax",
        loss="cross_entropy",
        dtype=np.float64,
    )
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
    return MLPProblem(mlp, data)


PROBLEM = _problem()


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def _replay(case: dict, use_optax_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step (of the weights
    and, for schedule-free cases, of the evaluation point too)."""
    reference = ARRAYS[f"{case['case']}/params"]
    optax_grads = ARRAYS[f"{case['case']}/grads"]
    evaluation = ARRAYS.get(f"{case['case']}/eval")
    params = ARRAYS["init"].reshape(1, -1).copy()
    grads = np.empty_like(params)
    optimizer = get_optimizer(case["optimizer"])([case["hparams"]], np.float64)
    optimizer.tensors = PROBLEM.tensors()
    optimizer.init_state(params)
    errors = []
    for step in range(optax_grads.shape[0]):
        if use_optax_grads:
            grads[0] = optax_grads[step]
        else:
            PROBLEM.loss_and_grad(params, None, grads)
        optimizer.step(params, grads)
        error = _relative_error(params[0], reference[step + 1])
        if evaluation is not None:
            at = optimizer.evaluation_params(params)[0]
            error = max(error, _relative_error(at, evaluation[step]))
        errors.append(error)
    return errors


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


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_optax_with_optax_gradients(case: dict) -> None:
    errors = _replay(case, use_optax_grads=True)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_optax_with_our_mlp(case: dict) -> None:
    errors = _replay(case, use_optax_grads=False)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


def test_the_runs_move_far_from_the_start() -> None:
    """Parity over trajectories that barely move would prove little."""
    for case in CASE_IDS:
        params = ARRAYS[f"{case}/params"]
        assert _relative_error(params[-1], params[0]) > 0.05, case
