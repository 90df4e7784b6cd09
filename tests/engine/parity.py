"""Replaying a reference library's recorded run (a committed fixture) with our optimizer.

Shared by the parity tests against torch.optim, optax and Keras. A fixture (``.npz``, made
by a script in scripts/) holds the MLP's layer sizes, the inputs ``x`` and targets ``y``,
the initial row ``init``, a JSON list of ``cases`` and, per case, the reference weights
after every step (``CASE/params``, row 0 the start) and the gradients the library saw
(``CASE/grads``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.mlp import MLP
from tui_optim.engine.optimizers.base import Optimizer, Tensor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: Relative error allowed after any step (the runs land within ~1e-14 of the references).
TOLERANCE = 1e-12


def load_fixture(name: str) -> dict[str, np.ndarray]:
    """Every array of ``tests/fixtures/NAME``."""
    with np.load(FIXTURES / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def cases_of(arrays: dict[str, np.ndarray], key: str = "cases") -> list[dict[str, Any]]:
    """The fixture's JSON list of cases stored under ``key``."""
    cases: list[dict[str, Any]] = json.loads(str(arrays[key]))
    return cases


def fixture_mlp(arrays: dict[str, np.ndarray]) -> MLP:
    """The fixtures' network: the stored layer sizes, tanh, softmax, cross-entropy, float64."""
    return MLP(
        layers=[int(n) for n in arrays["layers"]],
        hidden="tanh",
        output="softmax",
        loss="cross_entropy",
        dtype=np.float64,
    )


def mlp_tensors(mlp: MLP) -> tuple[Tensor, ...]:
    """Each layer's weight matrix and bias vector, in row order (as the race gives them)."""
    out: list[Tensor] = []
    for layer in mlp.layers:
        out.append(Tensor(f"W{layer.index}", layer.weight, (layer.fan_in, layer.fan_out)))
        out.append(Tensor(f"b{layer.index}", layer.bias, (layer.fan_out,)))
    return tuple(out)


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute difference over the reference's largest magnitude."""
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def replay(
    arrays: dict[str, np.ndarray],
    case: str,
    optimizer: Optimizer,
    own_gradient: Callable[[np.ndarray, np.ndarray], object],
    use_reference_grads: bool,
) -> list[float]:
    """Step ``optimizer`` from the fixture's start through case ``case``: the relative error
    of the weights after every step. The gradient is the reference library's
    (``use_reference_grads``) or ``own_gradient(params, grads_out)``. Where the case has an
    evaluation point per step (``CASE/eval``, schedule-free), its error counts too."""
    reference = arrays[f"{case}/params"]
    reference_grads = arrays[f"{case}/grads"]
    evaluation = arrays.get(f"{case}/eval")
    params = arrays["init"].reshape(1, -1).copy()
    grads = np.empty_like(params)
    optimizer.init_state(params)
    errors = []
    for step in range(reference_grads.shape[0]):
        if use_reference_grads:
            grads[0] = reference_grads[step]
        else:
            own_gradient(params, grads)
        optimizer.step(params, grads)
        error = relative_error(params[0], reference[step + 1])
        if evaluation is not None:
            at = optimizer.evaluation_params(params)[0]
            error = max(error, relative_error(at, evaluation[step]))
        errors.append(error)
    return errors


def assert_within_tolerance(errors: list[float]) -> None:
    """Every step within :data:`TOLERANCE`; the message names the worst step."""
    worst = int(np.argmax(errors))
    assert errors[worst] <= TOLERANCE, f"step {worst + 1}: {errors[worst]:.2e}"


def assert_runs_move(arrays: dict[str, np.ndarray], cases: list[str]) -> None:
    """Parity over trajectories that barely move would prove little: each case's weights end
    more than 5% (relative) away from where they started."""
    for case in cases:
        params = arrays[f"{case}/params"]
        assert relative_error(params[-1], params[0]) > 0.05, case
