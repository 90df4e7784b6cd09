"""The step inspector rebuilds each racer's optimizer state along its recorded path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tui_optim.engine.surfaces import get_surface
from tui_optim.race.race import Race
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario
from tui_optim.ui.step_inspector import inspect_step


def finished(name: str, flavor: str | None = "torch") -> RaceRecord:
    """The whole race (its racers in ``flavor``; None: the scenario's own). The course's zoo
    races in Keras' flavor; its torch twin is its own scenario."""
    if name == "peaks_zoo" and flavor == "torch":
        name, flavor = "peaks_zoo_torch", None
    scenario = load_scenario(name)
    if flavor is not None:
        racers = tuple(dataclasses.replace(r, flavor=flavor) for r in scenario.racers)
        scenario = dataclasses.replace(scenario, racers=racers)
    race = Race(scenario)
    record = RaceRecord()
    record.apply(race.started())
    while race.state == "running":
        race.advance(0.1)
    record.apply(race.snapshot())
    return record


def path_of(record: RaceRecord, racer: int) -> np.ndarray:
    """The start, then the position after each step (where each point was evaluated)."""
    from tui_optim.ui.screens.surface import racer_path

    return racer_path(record, racer)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["peaks_zoo", "peaks_learning_rates"])
@pytest.mark.parametrize("flavor", [None, "torch"])
def test_every_step_of_every_racer_is_the_one_the_race_took(name: str, flavor: str | None) -> None:
    record = finished(name, flavor)
    surface = get_surface(record.started.problem.surface)
    for rid, spec in record.specs.items():
        path = path_of(record, rid)
        for k in range(len(path) - 1):
            seen = inspect_step(surface, spec, path[: k + 1])
            np.testing.assert_allclose(seen.position + seen.update, path[k + 1], rtol=0, atol=1e-12)
            assert seen.step == k


def test_adam_state_and_bias_corrections() -> None:
    record = finished("peaks_zoo")
    surface = get_surface("peaks")
    [adam] = [s for s in record.specs.values() if s.optimizer == "adam"]
    seen = inspect_step(surface, adam, path_of(record, adam.id)[:4])
    assert seen.momentum is not None and seen.momentum[0] == "exp_avg"
    assert set(seen.state) >= {"exp_avg", "exp_avg_sq"}
    beta1, beta2 = adam.hparams["beta1"], adam.hparams["beta2"]
    assert seen.bias_corrections == pytest.approx({"1-β1^t": 1 - beta1**4, "1-β2^t": 1 - beta2**4})
    # Adam's effective rate per coordinate: lr m_hat / (sqrt(v_hat) + eps) / g
    m_hat = seen.state["exp_avg"] / (1 - beta1**4)
    v_hat = seen.state["exp_avg_sq"] / (1 - beta2**4)
    step = adam.hparams["lr"] * m_hat / (np.sqrt(v_hat) + adam.hparams["eps"])
    np.testing.assert_allclose(-seen.update, step, rtol=1e-12)


def test_adagrad_accumulates_squares_and_sgd_has_no_momentum() -> None:
    record = finished("peaks_zoo")
    surface = get_surface("peaks")
    specs = {s.optimizer: s for s in record.specs.values()}
    path = path_of(record, specs["adagrad"].id)[:3]
    seen = inspect_step(surface, specs["adagrad"], path)
    grads = surface.gradient(path.copy())
    start = specs["adagrad"].hparams.get("initial_accumulator_value", 0.0)
    np.testing.assert_allclose(seen.state["sum"], start + (grads**2).sum(axis=0), rtol=1e-12)
    sgd = inspect_step(surface, specs["sgd"], path_of(record, specs["sgd"].id)[:3])
    assert sgd.momentum is None
    np.testing.assert_allclose(sgd.effective_lr, [specs["sgd"].hparams["lr"]] * 2, rtol=1e-12)
