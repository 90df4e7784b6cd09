"""Learning-rate schedules: values, torch.optim.lr_scheduler parity, validation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine.optimizers import HyperparameterError, get_optimizer
from tui_optim.engine.schedules import SCHEDULES, Constant, ScheduleError, make_schedule

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "optimizer_parity.npz"


def test_registry() -> None:
    assert list(SCHEDULES) == ["constant", "step", "exponential", "cosine", "warmup"]
    assert all(cls.summary and "\n" not in cls.summary for cls in SCHEDULES.values())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("constant", [1, 1, 1, 1, 1]),
        ("step:step_size=2,gamma=0.5", [1, 1, 0.5, 0.5, 0.25]),
        ({"name": "exponential", "gamma": 0.5}, [1, 0.5, 0.25, 0.125, 0.0625]),
        ("cosine:total_steps=2,eta_min=0.2", [1, 0.6, 0.2, 0.2, 0.2]),
        ({"name": "cosine", "T_max": 4}, [1, (1 + math.sqrt(0.5)) / 2, 0.5, 0.1464466, 0]),
        ("warmup:warmup_steps=4", [0.25, 0.5, 0.75, 1, 1]),
        ("Warmup: steps = 2", [0.5, 1, 1, 1, 1]),
    ],
)
def test_factors(spec, expected: list[float]) -> None:
    schedule = make_schedule(spec)
    got = [schedule.factor(t) for t in range(1, 6)]
    np.testing.assert_allclose(got, expected, atol=1e-7)
    column = schedule.factors(np.arange(1.0, 6.0).reshape(-1, 1))
    assert column.shape == (5, 1)
    np.testing.assert_allclose(column[:, 0], got, rtol=1e-15)


def test_matches_torch_lr_schedulers() -> None:
    with np.load(FIXTURE, allow_pickle=False) as data:
        specs = json.loads(str(data["schedules"]))
        references = [data[f"schedule{i}"] for i in range(len(specs))]
    assert {make_schedule(spec).name for spec in specs} == set(SCHEDULES) - {"constant"}
    for spec, reference in zip(specs, references, strict=True):
        ours = make_schedule(spec).factors(np.arange(1, len(reference) + 1))
        np.testing.assert_allclose(ours, reference, rtol=1e-12, err_msg=spec)


def test_none_and_instances_pass_through() -> None:
    assert isinstance(make_schedule(None), Constant)
    schedule = make_schedule("exponential:gamma=0.9")
    assert make_schedule(schedule) is schedule
    assert schedule.describe() == "exponential(gamma=0.9)"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("cosin", "unknown schedule 'cosin' (did you mean 'cosine'?); allowed: constant"),
        ("step:step_size=0", "schedule step.step_size must be an integer in [1, inf), got 0"),
        ("step:step_size=2.5", "step_size must be an integer"),
        ("step:gama=0.5", "has no parameter 'gama' (did you mean 'gamma'?)"),
        ("exponential:gamma=0", "schedule exponential.gamma must be a number in (0, inf)"),
        ("cosine:eta_min=1.5", "schedule cosine.eta_min must be a number in [0, 1]"),
        ("cosine:total_steps=ten", "schedule cosine.total_steps must be a number, got 'ten'"),
        ("warmup:10", "expected key=value"),
        ({"warmup_steps": 3}, "a schedule needs a name"),
        (3, "a schedule must be a name or a table"),
        ({"name": "constant", "gamma": 0.5}, "constant has no parameter 'gamma'"),
    ],
)
def test_errors_are_one_line(spec, fragment: str) -> None:
    with pytest.raises(ScheduleError) as error:
        make_schedule(spec)
    assert fragment in str(error.value) and "\n" not in str(error.value)
    assert isinstance(error.value, HyperparameterError)


def test_schedule_drives_an_optimizer_through_lr_scale() -> None:
    """The race's use: lr_scale = factor(opt.t + 1) before each step."""
    schedule = make_schedule("step:step_size=3,gamma=0.1")
    params = np.zeros((2, 1))
    optimizer = get_optimizer("sgd")([{"lr": 1.0}, {"lr": 2.0}])
    optimizer.init_state(params)
    for _ in range(7):
        schedule.factors(optimizer.t + 1, out=optimizer.lr_scale)
        optimizer.step(params, np.ones((2, 1)))
    expected = -(3 * 1 + 3 * 0.1 + 0.01)
    np.testing.assert_allclose(params[:, 0], [expected, 2 * expected], rtol=1e-14)
