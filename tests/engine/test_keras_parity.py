"""Keras-flavor optimizers reproduce Keras 3 step for step (fixtures from
scripts/make_keras_fixtures.py, torch backend, float64; Keras itself is not needed here)."""

from __future__ import annotations

import numpy as np
import parity
import pytest

from tui_optim.engine.optimizers import KERAS_EQUIVALENTS, get_optimizer
from tui_optim.engine.optimizers.base import Optimizer
from tui_optim.engine.surfaces import get_surface

ARRAYS = parity.load_fixture("keras_parity.npz")
CASES, PEAKS = parity.cases_of(ARRAYS), parity.cases_of(ARRAYS, "peaks_cases")
CASE_IDS = [case["case"] for case in CASES]
MLP_NET = parity.fixture_mlp(ARRAYS)


def _optimizer(name: str, hparams: dict, n_params: int) -> Optimizer:
    optimizer = get_optimizer(name, flavor="keras")([hparams], np.float64)
    if n_params == MLP_NET.n_params:
        optimizer.tensors = parity.mlp_tensors(MLP_NET)
    return optimizer


def _replay(case: dict, use_keras_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step."""
    optimizer = _optimizer(case["optimizer"], case["hparams"], MLP_NET.n_params)

    def gradient(params: np.ndarray, grads: np.ndarray) -> None:
        MLP_NET.loss_and_grad(params, ARRAYS["x"], ARRAYS["y"], grads)

    return parity.replay(ARRAYS, case["case"], optimizer, gradient, use_keras_grads)


def test_fixture_covers_every_keras_optimizer() -> None:
    assert {case["optimizer"] for case in CASES} == set(KERAS_EQUIVALENTS)
    assert len(CLIPPED) == 3
    assert str(ARRAYS["keras_version"]).startswith("3.15.")
    assert all(ARRAYS[f"{case}/grads"].shape[0] == 40 for case in CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_keras_with_keras_gradients(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_keras_grads=True))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_keras_with_our_mlp(case: dict) -> None:
    parity.assert_within_tolerance(_replay(case, use_keras_grads=False))


CLIPPED = [
    case for case in CASES if {"clipnorm", "global_clipnorm", "clipvalue"} & set(case["hparams"])
]


@pytest.mark.parametrize("case", CLIPPED, ids=[case["case"] for case in CLIPPED])
def test_the_clipping_cases_clip(case: dict) -> None:
    """Without its clipping the same optimizer ends far from Keras' clipped run."""
    unclipped = {
        **case,
        "hparams": {
            key: value
            for key, value in case["hparams"].items()
            if key not in ("clipnorm", "global_clipnorm", "clipvalue")
        },
    }
    assert _replay(unclipped, use_keras_grads=False)[-1] > 1e-3


def test_the_runs_move_far_from_the_start() -> None:
    parity.assert_runs_move(ARRAYS, CASE_IDS)


@pytest.mark.parametrize("racer", PEAKS, ids=[racer["racer"] for racer in PEAKS])
def test_peaks_zoo_lands_where_keras_does(racer: dict) -> None:
    """The course's zoo on peaks (10 steps from (-0.35, -0.67)), our surface's gradient."""
    surface = get_surface("peaks")
    reference = ARRAYS[f"peaks/{racer['racer']}/params"]
    params = ARRAYS["peaks_start"].reshape(1, 2).copy()
    optimizer = _optimizer(racer["optimizer"], {"lr": racer["lr"]}, params.shape[1])
    optimizer.init_state(params)
    for _ in range(reference.shape[0] - 1):
        optimizer.step(params, surface.gradient(params))
    parity.assert_within_tolerance([parity.relative_error(params[0], reference[-1])])


def test_keras_rmsprop_on_peaks_ends_on_the_global_minimum() -> None:
    """Keras' RMSprop ends at about (0.228, -1.626) where torch semantics end elsewhere."""
    np.testing.assert_allclose(ARRAYS["peaks/RMSprop/params"][-1], [0.228, -1.626], atol=1e-3)
