"""2-D surfaces: analytic gradients, stationary minima, and the course's peaks claims."""

from __future__ import annotations

import numpy as np
import pytest

from tui_optim.engine.errors import UnknownNameError
from tui_optim.engine.surfaces import SURFACES, get_surface


@pytest.mark.parametrize("name", list(SURFACES))
def test_gradient_matches_central_differences(name: str) -> None:
    surface = SURFACES[name]
    x0, x1, y0, y1 = surface.bounds
    rng = np.random.default_rng(1)
    points = np.column_stack([rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20)])
    h = 1e-6
    dx, dy = np.array([h, 0.0]), np.array([0.0, h])
    numeric = np.column_stack(
        [
            (surface.value(points + dx) - surface.value(points - dx)) / (2 * h),
            (surface.value(points + dy) - surface.value(points - dy)) / (2 * h),
        ]
    )
    analytic = surface.gradient(points)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", [n for n, s in SURFACES.items() if s.minima])
def test_listed_minima_are_stationary_local_minima(name: str) -> None:
    surface = SURFACES[name]
    minima = np.array(surface.minima)
    assert np.abs(surface.gradient(minima)).max() < 1e-6
    values = surface.value(minima)
    for offset in ([1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3]):
        assert np.all(surface.value(minima + offset) > values)


def test_rows_are_independent_and_dtype_is_kept() -> None:
    surface = get_surface("rosenbrock")
    points = np.array([[0.5, 0.5], [-1.0, 2.0], [1.0, 1.0]])
    together = surface.gradient(points)
    for row, point in enumerate(points):
        np.testing.assert_array_equal(surface.gradient(point[None])[0], together[row])
    assert surface.value(points.astype(np.float32)).dtype == np.float32
    assert surface.grid(np.linspace(-1, 1, 5), np.linspace(0, 1, 3)).shape == (3, 5)


def descend(lr: float, steps: int, start=(-0.35, -0.67)) -> np.ndarray:
    peaks = get_surface("peaks")
    point = np.array([start], dtype=float)
    for _ in range(steps):
        point = point - lr * peaks.gradient(point)
    return point[0]


def test_peaks_learning_rates_behave_as_the_course_says() -> None:
    global_minimum = np.array(get_surface("peaks").minima[0])
    assert np.linalg.norm(descend(0.03, 5) - global_minimum) < 0.05  # arrives in 5 steps
    overshoot = descend(0.07, 11)
    assert overshoot[1] < global_minimum[1] - 0.1  # past the minimum
    assert np.linalg.norm(descend(0.1, 11) - global_minimum) > 0.3  # thrown further out
    halfway = descend(0.006, 11)
    start = np.array([-0.35, -0.67])
    travelled = np.linalg.norm(halfway - start) / np.linalg.norm(global_minimum - start)
    assert 0.3 < travelled < 0.7
    assert np.linalg.norm(descend(0.006, 30) - global_minimum) < 0.05


def test_peaks_start_points_end_in_different_minima() -> None:
    minima = np.array(get_surface("peaks").minima)
    ends = [descend(0.03, 10, start) for start in [(0.3, 1.3), (-0.35, -0.67)]]
    nearest = [int(np.argmin(np.linalg.norm(minima - end, axis=1))) for end in ends]
    assert nearest[0] != nearest[1]


def test_unknown_surface_suggests() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'peaks'"):
        get_surface("peak")
