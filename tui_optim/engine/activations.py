"""Hidden-layer activations, each with its derivative, working in place on (R, B, n) arrays.

The derivative is written in terms of the pre-activation ``z`` and the activation ``a`` the
forward pass already computed, so backward never re-evaluates an exponential it has.
Non-finite intermediate values are allowed: the race runs under ``np.errstate(all="ignore")``
and diagnoses divergence from the losses, so kernels need no clipping on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tui_optim.engine.errors import UnknownNameError, unknown

# SELU constants from Klambauer et al. (2017), as in torch.nn.SELU and Keras.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default negative_slope


def _linear(z: np.ndarray, out: np.ndarray) -> None:
    np.copyto(out, z)


def _linear_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    out.fill(1.0)


def _sigmoid(z: np.ndarray, out: np.ndarray) -> None:
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)


def _sigmoid_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1.0, a, out=out)
    out *= a


def _tanh(z: np.ndarray, out: np.ndarray) -> None:
    np.tanh(z, out=out)


def _tanh_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)


def _relu(z: np.ndarray, out: np.ndarray) -> None:
    np.maximum(z, 0.0, out=out)


def _relu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    np.greater(z, 0.0, out=out)


def _leaky_relu(z: np.ndarray, out: np.ndarray) -> None:
    np.multiply(z, np.where(z > 0.0, 1.0, LEAKY_SLOPE), out=out)


def _leaky_relu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.where(z > 0.0, 1.0, LEAKY_SLOPE)


def _elu(z: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.where(z > 0.0, z, np.expm1(np.minimum(z, 0.0)))


def _elu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.where(z > 0.0, 1.0, a + 1.0)


def _selu(z: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.where(z > 0.0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    out *= SELU_SCALE


def _selu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.where(z > 0.0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA)


def _swish(z: np.ndarray, out: np.ndarray) -> None:
    _sigmoid(z, out)
    out *= z


def _swish_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    # d/dz z*s(z) = s + z*s*(1-s) = a + s*(1-a)
    _sigmoid(z, out)
    out *= 1.0 - a
    out += a


def _softplus(z: np.ndarray, out: np.ndarray) -> None:
    np.logaddexp(0.0, z, out=out)


def _softplus_d(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    _sigmoid(z, out)


Kernel = Callable[[np.ndarray, np.ndarray], None]
Derivative = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: ``forward(z, out)`` and ``derivative(z, a, out)``."""

    name: str
    formula: str
    forward: Kernel
    derivative: Derivative


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", "a = z", _linear, _linear_d),
        Activation("sigmoid", "a = 1 / (1 + exp(-z))", _sigmoid, _sigmoid_d),
        Activation("tanh", "a = tanh(z)", _tanh, _tanh_d),
        Activation("relu", "a = max(z, 0)", _relu, _relu_d),
        Activation("leaky_relu", "a = z if z > 0 else 0.01 z", _leaky_relu, _leaky_relu_d),
        Activation("elu", "a = z if z > 0 else exp(z) - 1", _elu, _elu_d),
        Activation("selu", "a = 1.0507 (z if z > 0 else 1.6733 (exp(z) - 1))", _selu, _selu_d),
        Activation("swish", "a = z / (1 + exp(-z))  (silu)", _swish, _swish_d),
        Activation("softplus", "a = log(1 + exp(z))", _softplus, _softplus_d),
    )
}
#: Other names users type for the same functions.
ACTIVATION_ALIASES = {"silu": "swish", "logistic": "sigmoid", "identity": "linear"}


def get_activation(name: str) -> Activation:
    """Look an activation up by name or alias; ``UnknownNameError`` names the allowed ones."""
    key = ACTIVATION_ALIASES.get(name, name)
    try:
        return ACTIVATIONS[key]
    except KeyError:
        raise UnknownNameError(unknown("activation", name, ACTIVATIONS)) from None
