"""Keras-flavor optimizers reproduce Keras 3 step for step (fixtures from
scripts/make_keras_fixtures.py, torch backend, float64; Keras itself is not needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers import KERAS_EQUIVALENTS, get_optimizer
from tui_optim.engine.optimizers.base import Optimizer, Tensor
from tui_optim.engine.surfaces import get_surface

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "keras_parity.npz"
TOLERANCE = 1e-12  # relative; the racers land within ~1e-14 of Keras


def _load() -> tuple[dict[str, np.ndarray], list[dict], list[dict]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads(str(arrays["cases"])), json.loads(str(arrays["peaks_cases"]))


ARRAYS, CASES, PEAKS = _load()
CASE_IDS = [case["case"] for case in CASES]
MLP_NET = MLP(
    layers=[int(n) for n in ARRAYS["layers"]],
    hidden="tanh",
    output="softmax",
    loss="cross_entropy",
    dtype=np.float64,
)


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def _tensors(mlp: MLP) -> tuple[Tensor, ...]:
    out: list[Tensor] = []
    for layer in mlp.layers:
        out.append(Tensor(f"W{layer.index}", layer.weight, (layer.fan_in, layer.fan_out)))
        out.append(Tensor(f"b{layer.index}", layer.bias, (layer.fan_out,)))
    return tuple(out)


def _optimizer(name: str, hparams: dict, params: np.ndarray) -> Optimizer:
    optimizer = get_optimizer(name, flavor="keras")([hparams], np.float64)
    if params.shape[1] == MLP_NET.n_params:
        optimizer.tensors = _tensors(MLP_NET)
    optimizer.init_state(params)
    return optimizer


def _replay(case: dict, use_keras_grads: bool) -> list[float]:
    """Run our optimizer over the case; the relative error after every step."""
    reference = ARRAYS[f"{case['case']}/params"]
    keras_grads = ARRAYS[f"{case['case']}/grads"]
    params = ARRAYS["init"].reshape(1, -1).copy()
    grads = np.empty_like(params)
    optimizer = _optimizer(case["optimizer"], case["hparams"], params)
    errors = []
    for step in range(keras_grads.shape[0]):
        if use_keras_grads:
            grads[0] = keras_grads[step]
        else:
            MLP_NET.loss_and_grad(params, ARRAYS["x"], ARRAYS["y"], grads)
        optimizer.step(params, grads)
        errors.append(_relative_error(params[0], reference[step + 1]))
    return errors


def test_fixture_covers_every_keras_optimizer() -> None:
    assert {case["optimizer"] for case in CASES} == set(KERAS_EQUIVALENTS)
    assert len(CLIPPED) == 3
    assert str(ARRAYS["keras_version"]).startswith("3.15.")
    assert all(ARRAYS[f"{case}/grads"].shape[0] == 40 for case in CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_keras_with_keras_gradients(case: dict) -> None:
    errors = _replay(case, use_keras_grads=True)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_keras_with_our_mlp(case: dict) -> None:
    errors = _replay(case, use_keras_grads=False)
    assert max(errors) <= TOLERANCE, f"step {int(np.argmax(errors)) + 1}: {max(errors):.2e}"


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
    """Parity over trajectories that barely move would prove little."""
    for case in CASE_IDS:
        params = ARRAYS[f"{case}/params"]
        assert _relative_error(params[-1], params[0]) > 0.05, case


@pytest.mark.parametrize("racer", PEAKS, ids=[racer["racer"] for racer in PEAKS])
def test_peaks_zoo_lands_where_keras_does(racer: dict) -> None:
    """The course's zoo on peaks (10 steps from (-0.35, -0.67)), our surface's gradient."""
    surface = get_surface("peaks")
    reference = ARRAYS[f"peaks/{racer['racer']}/params"]
    params = ARRAYS["peaks_start"].reshape(1, 2).copy()
    optimizer = _optimizer(racer["optimizer"], {"lr": racer["lr"]}, params)
    for _ in range(reference.shape[0] - 1):
        optimizer.step(params, surface.gradient(params))
    assert _relative_error(params[0], reference[-1]) <= TOLERANCE


def test_keras_rmsprop_on_peaks_ends_on_the_global_minimum() -> None:
    """Keras' RMSprop ends at about (0.228, -1.626) where torch semantics end elsewhere."""
    np.testing.assert_allclose(ARRAYS["peaks/RMSprop/params"][-1], [0.228, -1.626], atol=1e-3)
