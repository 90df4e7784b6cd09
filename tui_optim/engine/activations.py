"""Hidden-layer activations, each with its derivative, working in place on (R, B, n) arrays.

``forward(z, out, work)`` writes the activation of the pre-activation ``z`` into ``out``;
``derivative(z, a, out, work)`` writes da/dz into ``out``, given the ``a`` forward computed,
so backward never re-evaluates an exponential it has. ``work`` is optional scratch shaped
like ``z`` (its contents are overwritten; ``None`` allocates): the MLP hands in a
preallocated one so the hot path does not allocate. Piecewise functions use arithmetic on
0/1 indicators rather than masked writes, which cost several times more on random masks
(except on small arrays, see ``MASKED_WRITE_ELEMENTS``).

Definitions and the derivative at kinks follow torch.nn: relu and leaky_relu (slope 0.01)
take the left slope at 0, elu/selu use alpha = 1 / Klambauer's constants, softplus is
linear above 20 as torch's ``threshold=20``. Non-finite intermediate values are allowed: the
race runs under ``np.errstate(all="ignore")`` and diagnoses divergence from the losses.
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
SOFTPLUS_THRESHOLD = 20.0  # torch.nn.Softplus: above this the function is the identity
#: Up to this many elements a masked write is cheaper than arithmetic on a 0/1 indicator
#: (writing a bool comparison into a float array goes through a slow casting loop); above
#: it, random masks make masked writes several times slower. Both give the same bits (for
#: finite values).
MASKED_WRITE_ELEMENTS = 2048

Work = np.ndarray | None


def _work(z: np.ndarray, work: Work) -> np.ndarray:
    return np.empty_like(z) if work is None else work


def _linear(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.copyto(out, z)


def _linear_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    out.fill(1.0)


def sigmoid(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    """Logistic function into ``out`` (exp(-z) may overflow to inf for z < -709: a = 0)."""
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)


def _sigmoid_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.subtract(1.0, a, out=out)
    out *= a


def _tanh(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.tanh(z, out=out)


def _tanh_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)


def _relu(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.maximum(z, 0.0, out=out)


def _relu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.greater(z, 0.0, out=out)


def _leaky_relu(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    # max(z, 0.01 z) is z for z > 0 and 0.01 z otherwise
    np.multiply(z, LEAKY_SLOPE, out=out)
    np.maximum(z, out, out=out)


def _leaky_relu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    # (z > 0) (1 - s) + s: exactly 1 or s (0.99 + 0.01 rounds to 1 in float32 and float64)
    np.greater(z, 0.0, out=out)
    out *= 1.0 - LEAKY_SLOPE
    out += LEAKY_SLOPE


def _elu(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    positive = np.maximum(z, 0.0, out=_work(z, work))
    np.minimum(z, 0.0, out=out)  # expm1 of the positive side could overflow
    np.expm1(out, out=out)
    out += positive


def _elu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    # 1 + a (z <= 0): exp(z) = a + 1 on the negative side, 1 on the positive side
    np.less_equal(z, 0.0, out=out)
    out *= a
    out += 1.0


def _selu(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    positive = np.maximum(z, 0.0, out=_work(z, work))
    np.minimum(z, 0.0, out=out)
    np.expm1(out, out=out)
    out *= SELU_ALPHA
    out += positive
    out *= SELU_SCALE


def _selu_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    # scale + (z <= 0) (a + scale alpha - scale): on the negative side scale alpha exp(z)
    # equals a + scale alpha
    if out.size <= MASKED_WRITE_ELEMENTS:
        np.add(a, SELU_SCALE * SELU_ALPHA - SELU_SCALE, out=out)
        np.putmask(out, z > 0.0, 0.0)
        out += SELU_SCALE
        return
    np.less_equal(z, 0.0, out=out)
    negative = np.add(a, SELU_SCALE * SELU_ALPHA - SELU_SCALE, out=_work(z, work))
    out *= negative
    out += SELU_SCALE


def _swish(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    sigmoid(z, out)
    out *= z


def _swish_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    # d/dz z s(z) = s + z s (1 - s) = a + s (1 - a)
    sigmoid(z, out)
    one_minus_a = np.subtract(1.0, a, out=_work(z, work))
    out *= one_minus_a
    out += a


def _softplus(z: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    np.logaddexp(0.0, z, out=out)
    # the mask is nearly uniform, so this masked write stays cheap
    np.copyto(out, z, where=z > SOFTPLUS_THRESHOLD)


def _softplus_d(z: np.ndarray, a: np.ndarray, out: np.ndarray, work: Work = None) -> None:
    sigmoid(z, out)
    np.copyto(out, 1.0, where=z > SOFTPLUS_THRESHOLD)


Kernel = Callable[[np.ndarray, np.ndarray, Work], None]
Derivative = Callable[[np.ndarray, np.ndarray, np.ndarray, Work], None]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: ``forward(z, out, work)``, ``derivative(z, a, out, work)``."""

    name: str
    formula: str
    forward: Kernel
    derivative: Derivative


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", "a = z", _linear, _linear_d),
        Activation("sigmoid", "a = 1 / (1 + exp(-z))", sigmoid, _sigmoid_d),
        Activation("tanh", "a = tanh(z)", _tanh, _tanh_d),
        Activation("relu", "a = max(z, 0)", _relu, _relu_d),
        Activation("leaky_relu", "a = z if z > 0 else 0.01 z", _leaky_relu, _leaky_relu_d),
        Activation("elu", "a = z if z > 0 else exp(z) - 1", _elu, _elu_d),
        Activation("selu", "a = 1.0507 (z if z > 0 else 1.6733 (exp(z) - 1))", _selu, _selu_d),
        Activation("swish", "a = z / (1 + exp(-z))  (silu)", _swish, _swish_d),
        Activation("softplus", "a = log(1 + exp(z)), z above 20", _softplus, _softplus_d),
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
