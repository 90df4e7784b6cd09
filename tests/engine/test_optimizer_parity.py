"""Our optimizers reproduce torch.optim step for step (fixtures from
scripts/make_optimizer_fixtures.py; torch itself is not needed here)."""

from __future__ import annotations

import numpy as np
import parity
import pytest

from tui_optim.engine.optimizers import OPTIMIZERS, TORCH_EQUIVALENTS, get_optimizer

ARRAYS = parity.load_fixture("optimizer_parity.npz")
CASES = parity.cases_of(ARRAYS)
CASE_IDS = [case["case"] for case in CASES]
MLP_NET = parity.fixture_mlp(ARRAYS)


def _replay(case: dict, use_torch_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step."""
    optimizer = get_optimizer(case["optimizer"])([case["hparams"]], np.float64)

    def gradient(params: np.ndarray, grads: np.ndarray) -> None:
        MLP_NET.loss_and_grad(params, ARRAYS["x"], ARRAYS["y"], grads)

    return parity.replay(ARRAYS, case["case"], optimizer, gradient, use_torch_grads)


def test_fixture_covers_every_torch_optimizer() -> None:
    covered = {case["optimizer"] for case in CASES}
    assert covered <= set(TORCH_EQUIVALENTS)  # the newer families: test_torch_newer_parity
    assert set(TORCH_EQUIVALENTS) <= set(OPTIMIZERS)
    assert all(ARRAYS[f"{case}/grads"].shape[0] >= 100 for case in CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_with_torch_gradients(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_torch_grads=True))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_with_our_mlp(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_torch_grads=False))


def test_the_runs_move_far_from_the_start() -> None:
    parity.assert_runs_move(ARRAYS, CASE_IDS)
