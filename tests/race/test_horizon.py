"""The prediction horizon of a time-series racer: a model fed its own predictions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tui_optim.engine.data import Dataset, window
from tui_optim.engine.mlp import MLP
from tui_optim.engine.problems import MLPProblem
from tui_optim.race.race import Race
from tui_optim.race.recorder import HORIZON_EVERY_EPOCHS
from tui_optim.scenario import load_scenario

OMEGA = 0.05


def sine_windows(scale: float = 1.0) -> Dataset:
    """Windows of two past values of sin(OMEGA t) -> the next: a linear recurrence,
    x[t] = 2 cos(OMEGA) x[t-1] - x[t-2], so a linear model can predict it exactly forever."""
    series = np.sin(OMEGA * np.arange(600))
    X, y = window(series, 2)
    split = 400
    return Dataset(
        name="sine windows",
        task="regression",
        X_train=X[:split] / scale,
        Y_train=y[:split, None],
        X_val=X[split:] / scale,
        Y_val=y[split:, None],
        labels_train=None,
        labels_val=None,
        classes=None,
        feature_names=("x0", "x1"),
        encoding="value",
        autoregressive=True,
        x_centre=np.zeros(2),
        x_spread=np.full(2, scale),
    )


def linear_problem(data: Dataset) -> MLPProblem:
    return MLPProblem(MLP([2, 1], "linear", "linear", "mse"), data)


def exact_params(scale: float) -> np.ndarray:
    # Keras layout [W (2, 1), b (1,)]: the recurrence's coefficients on the scaled inputs
    return np.array([-1.0 * scale, 2.0 * math.cos(OMEGA) * scale, 0.0])


def test_an_exact_model_predicts_as_far_as_the_validation_part_allows() -> None:
    data = sine_windows()
    problem = linear_problem(data)
    assert problem.has_horizon
    horizon = problem.horizon(exact_params(1.0)[None, :])
    assert horizon.shape == (1,)
    assert horizon[0] == data.n_val // 2  # never drifted: capped by the steps available


def test_inputs_are_rescaled_when_predictions_are_fed_back() -> None:
    # Inputs scaled by 4: the fed-back prediction must be scaled the same way to stay exact.
    problem = linear_problem(sine_windows(scale=4.0))
    assert problem.horizon(exact_params(4.0)[None, :])[0] == problem.data.n_val // 2


def test_a_slightly_wrong_model_drifts_off_and_each_racer_gets_its_own_figure() -> None:
    problem = linear_problem(sine_windows())
    exact = exact_params(1.0)
    rows = np.stack([exact, exact * (1 + 2e-3), exact * (1 + 2e-2), np.zeros(3)])
    horizon = problem.horizon(rows)
    assert horizon[0] == problem.data.n_val // 2
    # the larger the error, the sooner it exceeds the tolerance
    assert horizon[0] > horizon[1] > horizon[2] > horizon[3]
    # predicting 0 is wrong at once except where the sine is itself near 0
    assert horizon[3] < 5


def test_non_windowed_data_has_no_horizon() -> None:
    data = dataclasses.replace(sine_windows(), autoregressive=False)
    assert not linear_problem(data).has_horizon


def test_the_chaotic_series_race_reports_a_horizon_per_racer() -> None:
    scenario = dataclasses.replace(load_scenario("chaotic_series"), epochs=HORIZON_EVERY_EPOCHS)
    race = Race(scenario)
    while race.state == "running":
        race.advance(1.0)
    stats = race.snapshot().racers
    assert len(stats) == 3
    for racer in stats:
        assert racer.horizon is not None and racer.horizon >= 0
    # the horizon is measured at the end of the race too, not only every N epochs
    short = dataclasses.replace(scenario, epochs=3)
    race = Race(short)
    while race.state == "running":
        race.advance(1.0)
    assert all(r.horizon is not None for r in race.snapshot().racers)
