"""Weight initializers (Keras's formulas) and explicit weights from an ``.npz`` file.

Biases start at zero, as in Keras. Every initializer is Keras's ``VarianceScaling``:
variance ``scale / fan`` where fan is the average of fan-in and fan-out (Glorot) or fan-in
(He, LeCun). Uniform draws use the limit ``sqrt(3 * scale / fan)``; normal draws come from
a normal truncated at two standard deviations, divided by 0.87962566103423978 so the kept
draws still have the intended variance.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_optim.engine.errors import UnknownNameError, unknown
from tui_optim.engine.mlp import MLP

_TRUNCATED_UNIT_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


class WeightsError(ValueError):
    """An ``.npz`` weights file that cannot be used (one-line message naming the file)."""


@dataclass(frozen=True)
class Initializer:
    """Keras ``VarianceScaling(scale, mode, distribution)``."""

    name: str
    scale: float
    fan: str  # "avg" or "in"
    distribution: str  # "uniform" or "truncated_normal"

    def draw(self, rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
        fan = (fan_in + fan_out) / 2.0 if self.fan == "avg" else float(fan_in)
        variance = self.scale / fan
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        values = rng.standard_normal((fan_in, fan_out))
        outside = np.abs(values) > 2.0
        while outside.any():
            values[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        return values * (np.sqrt(variance) / _TRUNCATED_UNIT_STD)


INITIALIZERS: dict[str, Initializer] = {
    i.name: i
    for i in (
        Initializer("glorot_uniform", 1.0, "avg", "uniform"),
        Initializer("glorot_normal", 1.0, "avg", "truncated_normal"),
        Initializer("he_uniform", 2.0, "in", "uniform"),
        Initializer("he_normal", 2.0, "in", "truncated_normal"),
        Initializer("lecun_uniform", 1.0, "in", "uniform"),
        Initializer("lecun_normal", 1.0, "in", "truncated_normal"),
    )
}
DEFAULT_INITIALIZER = "glorot_uniform"  # Keras's default for Dense


def get_initializer(name: str) -> Initializer:
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise UnknownNameError(unknown("initializer", name, INITIALIZERS)) from None


def initial_params(mlp: MLP, init: str | Path, seed: int) -> np.ndarray:
    """One parameter row (P,) for ``mlp``: drawn from ``seed`` or loaded from an ``.npz``."""
    if isinstance(init, Path):
        return mlp.from_arrays(load_weights(init, mlp))
    initializer = get_initializer(init)
    rng = np.random.default_rng(seed)
    row = np.zeros(mlp.n_params, dtype=mlp.dtype)
    for layer in mlp.layers:
        row[layer.weight] = initializer.draw(rng, layer.fan_in, layer.fan_out).reshape(-1)
    return row


def load_weights(path: Path, mlp: MLP) -> dict[str, np.ndarray]:
    """Read ``W1, b1, W2, b2 ...`` (Keras layout) from ``path``, cast to ``mlp``'s dtype.

    Never unpickles, and reads each array's header (dtype and shape) before its data, so a
    small file declaring or inflating to gigabytes costs nothing. Raises :class:`WeightsError`
    (one line naming the file) for a missing, empty or unreadable file, one that is not an
    ``.npz`` archive, missing or extra keys, shapes that do not fit ``mlp``, object or
    non-numeric arrays, and values that are not finite once cast to ``mlp.dtype``.
    """
    expected: dict[str, tuple[int, ...]] = {}
    for layer in mlp.layers:
        expected[f"W{layer.index}"] = (layer.fan_in, layer.fan_out)
        expected[f"b{layer.index}"] = (layer.fan_out,)
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(_NPY_MAGIC))
            if not start:
                raise WeightsError(f"{path}: the file is empty; {_NPZ_HINT}")
            if start == _NPY_MAGIC:
                raise WeightsError(
                    f"{path}: not an .npz archive but a single .npy array; {_NPZ_HINT}"
                )
            if not start.startswith(_ZIP_MAGIC):
                raise WeightsError(
                    f"{path}: not a readable .npz weights file (not a zip archive); {_NPZ_HINT}"
                )
            with zipfile.ZipFile(handle) as archive:
                return _read_archive(path, archive, expected, mlp.sizes, mlp.dtype)
    except FileNotFoundError:
        raise WeightsError(f"{path}: weights file not found") from None
    except (
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        zipfile.BadZipFile,
        zlib.error,
    ) as error:
        if isinstance(error, WeightsError):
            raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(f"{path}: not a readable .npz weights file ({reason})") from None


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_NPZ_HINT = "save the weights as W1, b1, W2, b2 ... with np.savez"


def _read_archive(
    path: Path,
    archive: zipfile.ZipFile,
    expected: dict[str, tuple[int, ...]],
    sizes: tuple[int, ...],
    dtype: np.dtype,
) -> dict[str, np.ndarray]:
    """The expected arrays of an open archive, each header checked before its data."""
    members = {name.removesuffix(".npy"): name for name in archive.namelist()}
    missing = [k for k in expected if k not in members]
    extra = sorted(set(members) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise WeightsError(
            f"{path}: {'; '.join(parts)} (a {list(sizes)} model needs {', '.join(expected)})"
        )
    arrays = {}
    for key, shape in expected.items():
        with archive.open(members[key]) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                found, _, found_dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                found, _, found_dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise WeightsError(f"{path}: {key} uses .npy format {version}; save it again")
        if found_dtype.hasobject:
            raise WeightsError(
                f"{path}: {key} is an object array; only numeric arrays are accepted"
            )
        if found_dtype.kind not in "fiu":
            raise WeightsError(f"{path}: {key} has dtype {found_dtype}; a float array is required")
        if found != shape:
            raise WeightsError(f"{path}: {key} has shape {found}, expected {shape}")
        with archive.open(members[key]) as member:
            value = np.lib.format.read_array(member, allow_pickle=False)
        if not np.all(np.isfinite(value)):
            raise WeightsError(f"{path}: {key} contains NaN or infinite values")
        with np.errstate(over="ignore"):
            cast = value.astype(dtype)
        if not np.all(np.isfinite(cast)):
            raise WeightsError(
                f"{path}: {key} has values beyond {dtype.name}'s range "
                f"(largest {float(np.finfo(dtype).max):.3g})"
            )
        arrays[key] = cast
    return arrays


def save_weights(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as an ``.npz`` atomically (temporary file, then rename)."""
    from tui_optim.engine.atomic import atomic_write

    with atomic_write(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types the kwargs as allow_pickle
