"""2-D test surfaces: value and analytic gradient for a block of points (R, 2) at once.

Each surface lists its known minima (global first) so the surface view can mark them and
the tests can check that the gradient vanishes there. Values far from the interesting
region may overflow; no NumPy warning escapes (the race detects non-finite values itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tui_optim.engine.errors import UnknownNameError, unknown

Field = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Surface:
    """A function f(w0, w1) with its gradient, a default start and a drawing window."""

    name: str
    summary: str
    formula: str
    default_start: tuple[float, float]
    bounds: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)
    minima: tuple[tuple[float, float], ...]
    _value: Field
    _gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    #: True when f has no lower bound (a racer can run away to -inf).
    unbounded_below: bool = False

    def value(self, params: np.ndarray) -> np.ndarray:
        """f at each row of ``params`` (R, 2) -> (R,), in the input's dtype."""
        with np.errstate(all="ignore"):
            return np.asarray(self._value(params[:, 0], params[:, 1]), dtype=params.dtype)

    def gradient(self, params: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The gradient (R, 2) at each row, written into ``out`` when given."""
        if out is None:
            out = np.empty_like(params)
        with np.errstate(all="ignore"):
            dx, dy = self._gradient(params[:, 0], params[:, 1])
        out[:, 0] = dx
        out[:, 1] = dy
        return out

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """The 2 x 2 Hessian at each row (R, 2, 2), by central differences of the analytic
        gradient (step 1e-5 x max(1, |w|): error ~1e-10 relative on these smooth functions)."""
        points = np.asarray(params, dtype=np.float64)
        out = np.empty((len(points), 2, 2))
        for axis in range(2):
            step = 1e-5 * np.maximum(1.0, np.abs(points[:, axis]))
            ahead, behind = points.copy(), points.copy()
            ahead[:, axis] += step
            behind[:, axis] -= step
            out[:, :, axis] = (self.gradient(ahead) - self.gradient(behind)) / (2 * step)[:, None]
        return 0.5 * (out + out.transpose(0, 2, 1))

    def grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Values on the grid ``xs`` x ``ys``, shaped (len(ys), len(xs)) for drawing."""
        x, y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
        with np.errstate(all="ignore"):
            return np.asarray(self._value(x, y), dtype=np.float64)


# ------------------------------------------------------------------------------ peaks
def _peaks(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    a = np.exp(-(x**2) - (y + 1) ** 2)
    b = np.exp(-(x**2) - y**2)
    c = np.exp(-((x + 1) ** 2) - y**2)
    return 3 * (1 - x) ** 2 * a - 10 * (x / 5 - x**3 - y**5) * b - c / 3


def _peaks_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.exp(-(x**2) - (y + 1) ** 2)
    b = np.exp(-(x**2) - y**2)
    c = np.exp(-((x + 1) ** 2) - y**2)
    inner = x / 5 - x**3 - y**5
    dx = (
        -6 * (1 - x) * a
        - 6 * x * (1 - x) ** 2 * a
        - 10 * (0.2 - 3 * x**2) * b
        + 20 * x * inner * b
        + 2 * (x + 1) * c / 3
    )
    dy = -6 * (y + 1) * (1 - x) ** 2 * a + 50 * y**4 * b + 20 * y * inner * b + 2 * y * c / 3
    return dx, dy


# ------------------------------------------------------------------------------ the others
def _rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


_BEALE = (1.5, 2.25, 2.625)


def _beale(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(_BEALE))


def _beale_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx = np.zeros_like(x * y)
    dy = np.zeros_like(dx)
    for i, c in enumerate(_BEALE):
        power = i + 1
        term = c - x + x * y**power
        dx = dx + 2 * term * (y**power - 1)
        dy = dy + 2 * term * power * x * y ** (power - 1)
    return dx, dy


def _himmelblau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = x**2 + y - 11, x + y**2 - 7
    return 4 * x * first + 2 * second, 2 * first + 4 * y * second


def _rastrigin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    tau = 2 * np.pi
    return 20 + x**2 - 10 * np.cos(tau * x) + y**2 - 10 * np.cos(tau * y)


def _rastrigin_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tau = 2 * np.pi
    return 2 * x + 10 * tau * np.sin(tau * x), 2 * y + 10 * tau * np.sin(tau * y)


def _saddle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 - y**2


def _saddle_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 2 * x, -2 * y


CONDITION = 25.0


def _quadratic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 0.5 * (x**2 + CONDITION * y**2)


def _quadratic_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x, CONDITION * y


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "peaks",
            "MATLAB's peaks: one global minimum, two local ones, three maxima (the course's)",
            "3(1-w0)^2 exp(-w0^2-(w1+1)^2) - 10(w0/5 - w0^3 - w1^5) exp(-w0^2-w1^2)"
            " - 1/3 exp(-(w0+1)^2 - w1^2)",
            (-0.35, -0.67),
            (-3.0, 3.0, -3.0, 3.0),
            (
                (0.228278920, -1.625534960),
                (-1.347396240, 0.204518870),
                (0.296445553, 0.320196247),
            ),
            _peaks,
            _peaks_gradient,
        ),
        Surface(
            "rosenbrock",
            "Rosenbrock's banana valley: easy to find, slow to follow to (1, 1)",
            "(1-w0)^2 + 100 (w1-w0^2)^2",
            (-1.5, 2.0),
            (-2.0, 2.0, -1.0, 3.0),
            ((1.0, 1.0),),
            _rosenbrock,
            _rosenbrock_gradient,
        ),
        Surface(
            "beale",
            "Beale's function: flat plateaus and sharp ridges, minimum at (3, 0.5)",
            "(1.5 - w0 + w0 w1)^2 + (2.25 - w0 + w0 w1^2)^2 + (2.625 - w0 + w0 w1^3)^2",
            (1.0, 1.5),
            (-4.5, 4.5, -4.5, 4.5),
            ((3.0, 0.5),),
            _beale,
            _beale_gradient,
        ),
        Surface(
            "himmelblau",
            "Himmelblau's function: four equal minima, where you end depends on where you start",
            "(w0^2 + w1 - 11)^2 + (w0 + w1^2 - 7)^2",
            (0.0, 0.0),
            (-5.0, 5.0, -5.0, 5.0),
            (
                (3.0, 2.0),
                (-2.805118087, 3.131312518),
                (-3.779310253, -3.283185991),
                (3.584428340, -1.848126527),
            ),
            _himmelblau,
            _himmelblau_gradient,
        ),
        Surface(
            "rastrigin",
            "Rastrigin's function: a bowl covered in local minima, global minimum at 0",
            "20 + w0^2 - 10 cos(2 pi w0) + w1^2 - 10 cos(2 pi w1)",
            (2.2, -1.7),
            (-5.12, 5.12, -5.12, 5.12),
            ((0.0, 0.0),),
            _rastrigin,
            _rastrigin_gradient,
        ),
        Surface(
            "saddle",
            "a saddle point at the origin with no minimum: who escapes it, and how fast",
            "w0^2 - w1^2",
            (-1.0, 0.01),
            (-2.0, 2.0, -2.0, 2.0),
            (),
            _saddle,
            _saddle_gradient,
            unbounded_below=True,
        ),
        Surface(
            "ill_conditioned",
            f"a narrow quadratic valley, condition number {CONDITION:g}: momentum's showcase",
            f"0.5 (w0^2 + {CONDITION:g} w1^2)",
            (-4.0, 1.0),
            (-5.0, 5.0, -2.0, 2.0),
            ((0.0, 0.0),),
            _quadratic,
            _quadratic_gradient,
        ),
    )
}


def get_surface(name: str) -> Surface:
    """The surface registered as ``name``; an unknown name gets a suggestion."""
    try:
        return SURFACES[name]
    except (KeyError, TypeError):
        raise UnknownNameError(unknown("surface", name, SURFACES)) from None
