"""Adafactor, ASGD, L-BFGS, Muon, Lookahead and SAM reproduce their torch references step
for step, gradient evaluations included (fixtures from scripts/make_torch_newer_fixtures.py;
torch itself is not needed here)."""

from __future__ import annotations

import numpy as np
import parity
import pytest

from tui_optim.engine.optimizers import TORCH_EQUIVALENTS, get_optimizer
from tui_optim.engine.optimizers.muon import newton_schulz, to_bfloat16

ARRAYS = parity.load_fixture("torch_newer_parity.npz")
CASES = parity.cases_of(ARRAYS)
CASE_IDS = [case["case"] for case in CASES]
MLP_443 = parity.fixture_mlp(ARRAYS)
TENSORS = parity.mlp_tensors(MLP_443)


def _replay(case: dict, use_torch_grads: bool) -> tuple[list[float], list[int], object]:
    """Run our optimizer over the case as the race steps it: the relative error after every
    step, the gradient evaluations of every step, and the optimizer."""
    name = case["case"]
    reference = ARRAYS[f"{name}/params"]
    torch_grads = ARRAYS.get(f"{name}/grads")
    x, y = ARRAYS["x"], ARRAYS["y"]
    params = ARRAYS["init"].reshape(1, -1).copy()
    grads = np.empty_like(params)
    cls = get_optimizer(case["optimizer"])
    optimizer = cls([cls.validate(case["hparams"])], np.float64)
    optimizer.tensors = TENSORS
    optimizer.init_state(params)
    counted = np.zeros(1, dtype=np.int64)

    def closure(points: np.ndarray, grad_out: np.ndarray, rows: slice | np.ndarray) -> np.ndarray:
        counted[rows] += 1
        return MLP_443.loss_and_grad(points, x, y, grad_out)

    errors, evaluations = [], []
    for step in range(reference.shape[0] - 1):
        counted[:] = 1
        if use_torch_grads:
            grads[0] = torch_grads[step]
            losses = None
        else:
            losses = MLP_443.loss_and_grad(params, x, y, grads)
        if optimizer.needs_closure:
            optimizer.step(params, grads, closure, losses)
        else:
            optimizer.step(params, grads)
        errors.append(parity.relative_error(params[0], reference[step + 1]))
        evaluations.append(int(counted[0]))
    return errors, evaluations, optimizer


def test_fixtures_cover_every_torch_optimizer() -> None:
    older = parity.cases_of(parity.load_fixture("optimizer_parity.npz"))
    covered = {case["optimizer"] for case in CASES + older}
    assert set(TORCH_EQUIVALENTS) <= covered
    assert {"lookahead", "sam"} <= covered


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_with_our_mlp(case: dict) -> None:
    errors, evaluations, _ = _replay(case, use_torch_grads=False)
    parity.assert_within_tolerance(errors)
    assert evaluations == ARRAYS[f"{case['case']}/evals"].tolist()


@pytest.mark.parametrize(
    "case", [c for c in CASES if f"{c['case']}/grads" in ARRAYS], ids=lambda c: c["case"]
)
def test_matches_torch_with_torch_gradients(case: dict) -> None:
    errors, _, _ = _replay(case, use_torch_grads=True)
    parity.assert_within_tolerance(errors)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["optimizer"] == "asgd"], ids=lambda c: c["case"]
)
def test_asgd_keeps_torchs_weight_average(case: dict) -> None:
    _, _, optimizer = _replay(case, use_torch_grads=True)
    average = optimizer.state["ax"][0]  # type: ignore[attr-defined]
    parity.assert_within_tolerance([parity.relative_error(average, ARRAYS[f"{case['case']}/ax"])])


def test_closure_families_evaluate_more_than_once_per_step() -> None:
    """L-BFGS's evaluations vary per step and SAM's are two: the count is not a constant."""
    lbfgs = ARRAYS["lbfgs_strong_wolfe/evals"]
    assert lbfgs.sum() > 2 * len(lbfgs) and len(set(lbfgs.tolist())) > 1
    assert set(ARRAYS["sam_sgd/evals"].tolist()) == {2}


def test_the_runs_move_far_from_the_start() -> None:
    parity.assert_runs_move(ARRAYS, CASE_IDS)


def test_bfloat16_rounding_is_to_nearest_even() -> None:
    # 1 + 2^-8 lies halfway between two bfloat16 numbers: it rounds to the even one, 1.0
    values = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-9, -2.5], dtype=np.float64)
    assert to_bfloat16(values).tolist() == [1.0, 1 + 2**-6, 1.0, -2.5]


def test_newton_schulz_pushes_singular_values_towards_one() -> None:
    rng = np.random.default_rng(0)
    matrices = rng.normal(size=(3, 4, 6))
    singular = np.linalg.svd(newton_schulz(matrices, (3.4445, -4.7750, 2.0315), 5, 1e-7))[1]
    assert singular.min() > 0.5 and singular.max() < 1.5
