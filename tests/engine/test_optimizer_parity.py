"""Our optimizers reproduce torch.optim step for step (fixtures from
scripts/make_optimizer_fixtures.py; torch itself is not needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import OPTIMIZERS, TORCH_EQUIVALENTS, get_optimizer

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "optimizer_parity.npz"
TOLERANCE = 1e-12


def _load() -> tuple[dict[str, np.ndarray], list[dict]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads(str(arrays["cases"]))


ARRAYS, CASES = _load()
CASE_IDS = [case["case"] for case in CASES]


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def _replay(case: dict, use_torch_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step."""
    reference = ARRAYS[f"{case['case']}/params"]
    torch_grads = ARRAYS[f"{case['case']}/grads"]
    mlp = MLP(
        layers=[int(n) for n in ARRAYS["layers"]],
        hidden="tanh",
        output="softmax",
        loss="cross_entropy",
        dtype=np.float64,
    )
    params = ARRAYS["init"].reshape(1, -1).copy()
    grads = np.empty_like(params)
    optimizer = get_optimizer(case["optimizer"])([case["hparams"]], np.float64)
    optimizer.init_state(params)
    errors = []
    for step in range(torch_grads.shape[0]):
        if use_torch_grads:
            grads[0] = torch_grads[step]
        else:
            mlp.loss_and_grad(params, ARRAYS["x"], ARRAYS["y"], grads)
        optimizer.step(params, grads)
        errors.append(_relative_error(params[0], reference[step + 1]))
    return errors


def test_fixture_covers_every_torch_optimizer() -> None:
    covered = {case["optimizer"] for case in CASES}
    assert covered <= set(TORCH_EQUIVALENTS)  # the newer families: test_torch_newer_parity
    assert set(TORCH_EQUIVALENTS) <= set(OPTIMIZERS)
    assert all(ARRAYS[f"{case}/grads"].shape[0] >= 100 for case in CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_with_torch_gradients(case: dict) -> None:
    errors = _replay(case, use_torch_grads=True)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch_with_our_mlp(case: dict) -> None:
    errors = _replay(case, use_torch_grads=False)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


def test_the_runs_move_far_from_the_start() -> None:
    """Parity over trajectories that barely move would prove little."""
    for case in CASE_IDS:
        params = ARRAYS[f"{case}/params"]
        assert _relative_error(params[-1], params[0]) > 0.05, case
