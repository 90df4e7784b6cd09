"""Hidden activations: values, derivatives, torch's conventions at kinks, names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_optim.engine import activations
from tui_optim.engine.activations import (
    ACTIVATION_ALIASES,
    ACTIVATIONS,
    LEAKY_SLOPE,
    SELU_ALPHA,
    SELU_SCALE,
    get_activation,
)
from tui_optim.engine.errors import UnknownNameError


def reference(name: str, z: np.ndarray) -> np.ndarray:
    """Straightforward definitions (torch.nn's)."""
    sig = 1.0 / (1.0 + np.exp(-z))
    return {
        "linear": z,
        "sigmoid": sig,
        "tanh": np.tanh(z),
        "relu": np.where(z > 0, z, 0.0),
        "leaky_relu": np.where(z > 0, z, LEAKY_SLOPE * z),
        "elu": np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "selu": SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0))),
        "swish": z * sig,
        "softplus": np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20)))),
    }[name]


def grid() -> np.ndarray:
    z = np.linspace(-6, 6, 2 * 3 * 41).reshape(2, 3, 41)
    return z + 0.0123  # keep clear of the kink at 0 for finite differences


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_definition(name: str) -> None:
    z = grid()
    out = np.empty_like(z)
    ACTIVATIONS[name].forward(z, out, np.empty_like(z))
    np.testing.assert_allclose(out, reference(name, z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_central_differences(name: str) -> None:
    z = grid()
    activation = ACTIVATIONS[name]
    a = np.empty_like(z)
    activation.forward(z, a, None)
    slope = np.empty_like(z)
    activation.derivative(z, a, slope, np.empty_like(z))
    h = 1e-6
    numeric = (reference(name, z + h) - reference(name, z - h)) / (2 * h)
    np.testing.assert_allclose(slope, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_without_work_space_gives_the_same(name: str) -> None:
    z = grid()
    activation = ACTIVATIONS[name]
    a1, a2, d1, d2 = (np.empty_like(z) for _ in range(4))
    activation.forward(z, a1, np.empty_like(z))
    activation.forward(z, a2)
    activation.derivative(z, a1, d1, np.empty_like(z))
    activation.derivative(z, a2, d2)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(d1, d2)


@pytest.mark.parametrize(
    ("name", "value", "slope"),
    [
        ("relu", 0.0, 0.0),
        ("leaky_relu", 0.0, LEAKY_SLOPE),
        ("elu", 0.0, 1.0),
        ("selu", 0.0, SELU_SCALE * SELU_ALPHA),
    ],
)
def test_kinks_take_torchs_convention(name: str, value: float, slope: float) -> None:
    """At z = 0 exactly (zero weights give it), torch takes the z <= 0 branch."""
    z = np.zeros((1, 2, 3))
    a, d = np.empty_like(z), np.empty_like(z)
    ACTIVATIONS[name].forward(z, a, np.empty_like(z))
    ACTIVATIONS[name].derivative(z, a, d, np.empty_like(z))
    assert np.all(a == value)
    np.testing.assert_allclose(d, slope, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_piecewise_slopes_are_exact_away_from_zero(dtype) -> None:
    z = np.array([[[-3.0, -0.5, 0.5, 3.0]]], dtype)
    a, d = np.empty_like(z), np.empty_like(z)
    for name, right in (("leaky_relu", 1.0), ("elu", 1.0), ("selu", SELU_SCALE), ("relu", 1.0)):
        ACTIVATIONS[name].forward(z, a, np.empty_like(z))
        ACTIVATIONS[name].derivative(z, a, d, np.empty_like(z))
        assert d.dtype == dtype
        np.testing.assert_array_equal(d[..., 2:], np.asarray(right, dtype))
    ACTIVATIONS["leaky_relu"].derivative(z, a, d)
    np.testing.assert_array_equal(d[..., :2], np.asarray(LEAKY_SLOPE, dtype))


def test_softplus_is_linear_above_torchs_threshold() -> None:
    z = np.array([[[19.0, 21.0, 700.0, 1000.0]]])
    a, d = np.empty_like(z), np.empty_like(z)
    ACTIVATIONS["softplus"].forward(z, a)
    ACTIVATIONS["softplus"].derivative(z, a, d)
    assert a[0, 0, 0] == pytest.approx(np.log1p(np.exp(19.0)), rel=1e-15)
    np.testing.assert_array_equal(a[..., 1:], z[..., 1:])
    np.testing.assert_array_equal(d[..., 1:], 1.0)


def test_large_negative_inputs_stay_finite() -> None:
    z = np.array([[[-1000.0, -50.0]]])
    for name, activation in ACTIVATIONS.items():
        a, d = np.empty_like(z), np.empty_like(z)
        with np.errstate(over="ignore"):  # sigmoid's exp(1000) is inf: 1 / inf is exactly 0
            activation.forward(z, a)
            activation.derivative(z, a, d)
        assert np.isfinite(a).all() and np.isfinite(d).all(), name


def test_aliases_and_unknown_names() -> None:
    for alias, name in ACTIVATION_ALIASES.items():
        assert get_activation(alias) is ACTIVATIONS[name]
    with pytest.raises(UnknownNameError) as error:
        get_activation("sigmod")
    message = str(error.value)
    assert "did you mean 'sigmoid'" in message and "allowed:" in message and "\n" not in message


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_selu_slope_of_a_small_array_has_the_bits_of_a_large_one(
    monkeypatch: pytest.MonkeyPatch, dtype: type
) -> None:
    """Small arrays take a masked write, large ones 0/1 arithmetic: the same slopes."""
    rng = np.random.default_rng(5)
    z = np.concatenate([rng.normal(scale=3.0, size=500), [0.0, -0.0, 1e-300, -1e-300]])
    z = z.astype(dtype)
    selu = ACTIVATIONS["selu"]
    a = np.empty_like(z)
    selu.forward(z, a, None)
    slopes = {}
    for limit in (0, z.size):
        monkeypatch.setattr(activations, "MASKED_WRITE_ELEMENTS", limit)
        slopes[limit] = np.empty_like(z)
        selu.derivative(z, a, slopes[limit], np.empty_like(z))
    np.testing.assert_array_equal(slopes[0], slopes[z.size])
    assert slopes[0][-4:-2].tolist() == pytest.approx([SELU_SCALE * SELU_ALPHA] * 2)



@pytest.mark.parametrize("x", [-2.0, -1.0, 1.0])
def test_swish_at_the_course_exercise_points(x: float) -> None:
    """The course's exercise: swish(x) = x / (1 + e^-x) and its derivative, worked by hand:
    swish'(x) = s + x s (1 - s) with s = 1 / (1 + e^-x)."""
    s = 1 / (1 + math.exp(-x))
    z = np.array([[x]])
    a, slope = np.empty_like(z), np.empty_like(z)
    swish = ACTIVATIONS["swish"]
    swish.forward(z, a)
    swish.derivative(z, a, slope)
    assert a[0, 0] == pytest.approx(x / (1 + math.exp(-x)), rel=1e-15)
    assert slope[0, 0] == pytest.approx(s + x * s * (1 - s), rel=1e-14)
