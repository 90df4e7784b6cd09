"""Regression sources: sine, and the chaotic series lorenz and logistic_map windowed into
"k past values -> next value" rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tui_optim.engine.data.spec import MAX_WINDOW, DataError, DatasetInfo, DataSpec, RawData
from tui_optim.engine.data.synthetic import noise_option, samples_option
from tui_optim.engine.optimizers.base import HParam


def lorenz_series(
    samples: int,
    dt: float,
    start: tuple[float, float, float] = (1.0, 1.0, 1.0),
    burn_in: int = 1000,
) -> np.ndarray:
    """x(t) of the Lorenz system integrated with classical RK4 (fixed step ``dt``).

    ``burn_in`` steps are discarded so the series starts on the attractor.
    """
    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0

    def velocity(state: np.ndarray) -> np.ndarray:
        x, y, z = state
        return np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])

    state = np.array(start, dtype=np.float64)
    out = np.empty(samples)
    for i in range(burn_in + samples):
        k1 = velocity(state)
        k2 = velocity(state + 0.5 * dt * k1)
        k3 = velocity(state + 0.5 * dt * k2)
        k4 = velocity(state + dt * k3)
        state = state + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        if i >= burn_in:
            out[i - burn_in] = state[0]
    return out


def logistic_series(samples: int, r: float, start: float = 0.2, burn_in: int = 100) -> np.ndarray:
    """x_{n+1} = r x_n (1 - x_n), after ``burn_in`` iterations."""
    x = start
    out = np.empty(samples)
    for i in range(burn_in + samples):
        x = r * x * (1.0 - x)
        if i >= burn_in:
            out[i - burn_in] = x
    return out


def window(series: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``series[i:i+k] -> series[i+k]`` for every i (chronological order)."""
    if len(series) <= k:
        raise DataError(f"a window of {k} needs more than {k} samples, got {len(series)}")
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], k).copy()
    return X, series[k:].copy()


def _sine(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    samples = int(options["samples"])
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=samples)
    y = np.sin(x) + rng.normal(0.0, options["noise"], size=samples)
    return RawData(x[:, None], y, "regression", None, ("x",))


def _windowed(series: np.ndarray, k: int) -> RawData:
    X, y = window(series, k)
    names = tuple(f"x[t-{k - i}]" for i in range(k))
    return RawData(X, y, "regression", None, names, time_series=True)


def _lorenz(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    k = int(options["window"])
    return _windowed(lorenz_series(int(options["samples"]) + k, float(options["dt"])), k)


def _logistic_map(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    k = int(options["window"])
    return _windowed(logistic_series(int(options["samples"]) + k, float(options["r"])), k)


def _windows(options: Mapping[str, Any]) -> tuple[int, int]:
    return int(options["samples"]), int(options["window"]) + 1


_WINDOW = HParam(
    "window", 8, "past values used to predict the next one", "int", low=1, high=MAX_WINDOW
)

ENTRIES = (
    DatasetInfo(
        "sine",
        "regression",
        "y = sin(x) + noise, x uniform in [-pi, pi]",
        _sine,
        (samples_option(200), noise_option(0.05)),
        shape=lambda options: (int(options["samples"]), 2),
    ),
    DatasetInfo(
        "lorenz",
        "regression",
        "the Lorenz system's x(t) (sigma 10, rho 28, beta 8/3, RK4): k past values -> next",
        _lorenz,
        (
            samples_option(2000),
            _WINDOW,
            HParam("dt", 0.01, "integration step (time units)", low=0.0, low_open=True, high=0.1),
        ),
        time_series=True,
        shape=_windows,
        seconds_per_row=10e-6,  # one RK4 step: four small NumPy evaluations (9 us measured)
    ),
    DatasetInfo(
        "logistic_map",
        "regression",
        "x <- r x (1 - x), chaotic for r near 4: k past values -> next",
        _logistic_map,
        (samples_option(1000), _WINDOW, HParam("r", 3.9, "growth rate", low=0.0, high=4.0)),
        time_series=True,
        shape=_windows,
        seconds_per_row=0.2e-6,
    ),
)
