"""Each optimizer's stability threshold is where its steps on a quadratic stop converging.

A threshold explains an instability on the detail screen ("sharpness 48 > 2/lr = 20"), so
it must be the rule's own: on f(w) = h w^2 / 2 a run converges for a curvature h a little
below the threshold and blows up a little above it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tui_optim.engine.optimizers import FLAVORS, get_optimizer, registry

#: (flavor, optimizer, hyperparameters) of every rule with a threshold, over its momentum
#: settings (a test below checks that no rule with a threshold is missing).
CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("torch", "sgd", {"lr": 0.1}),
    ("torch", "sgd", {"lr": 0.1, "momentum": 0.9}),
    ("torch", "sgd", {"lr": 0.05, "momentum": 0.5, "nesterov": True}),
    ("torch", "momentum", {"lr": 0.1, "gamma": 0.9}),
    ("torch", "nesterov", {"lr": 0.1, "gamma": 0.9}),
    ("keras", "sgd", {"lr": 0.1}),
    ("keras", "sgd", {"lr": 0.1, "momentum": 0.9}),
    ("keras", "sgd", {"lr": 0.05, "momentum": 0.5, "nesterov": True}),
)


def final_distance(flavor: str, name: str, hparams: dict[str, Any], curvature: float) -> float:
    """|w| after 2000 steps on f(w) = curvature * w^2 / 2 from w = 1."""
    cls = get_optimizer(name, flavor)
    optimizer = cls([cls.validate(hparams)])
    params = np.ones((1, 1))
    grads = np.empty_like(params)
    optimizer.init_state(params)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(2000):
            np.multiply(params, curvature, out=grads)
            optimizer.step(params, grads)
    return float(np.abs(params[0, 0]))


@pytest.mark.parametrize(("flavor", "name", "hparams"), CASES)
def test_a_run_converges_below_the_threshold_and_blows_up_above_it(
    flavor: str, name: str, hparams: dict[str, Any]
) -> None:
    cls = get_optimizer(name, flavor)
    found = cls.stability_threshold(cls.validate(hparams))
    assert found is not None
    threshold = found[0]
    assert final_distance(flavor, name, hparams, 0.97 * threshold) < 1e-3
    assert not final_distance(flavor, name, hparams, 1.03 * threshold) < 1e3


def test_every_rule_with_a_threshold_is_checked_on_a_quadratic() -> None:
    with_threshold = {
        (flavor, name)
        for flavor in FLAVORS
        for name, cls in registry(flavor).items()
        if cls.stability_threshold(cls.validate({})) is not None
    }
    assert with_threshold == {(flavor, name) for flavor, name, _ in CASES}
