"""Initializers (Keras's formulas) and explicit weights from .npz files."""

from __future__ import annotations

import io
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine.errors import UnknownNameError
from tui_optim.engine.init import (
    INITIALIZERS,
    WeightsError,
    initial_params,
    load_weights,
    save_weights,
)
from tui_optim.engine.mlp import MLP

WIDE = MLP([200, 300, 10], "selu", "softmax", "cross_entropy")  # many draws per layer


def variance_for(name: str, fan_in: int, fan_out: int) -> float:
    scale, fan = {
        "glorot_uniform": (1.0, (fan_in + fan_out) / 2),
        "glorot_normal": (1.0, (fan_in + fan_out) / 2),
        "he_uniform": (2.0, fan_in),
        "he_normal": (2.0, fan_in),
        "lecun_uniform": (1.0, fan_in),
        "lecun_normal": (1.0, fan_in),
    }[name]
    return scale / fan


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_statistics(name: str) -> None:
    row = initial_params(WIDE, name, seed=0)
    layer = WIDE.layers[0]
    weights = row[layer.weight]
    variance = variance_for(name, layer.fan_in, layer.fan_out)
    assert weights.size == 60_000
    assert abs(weights.mean()) < 4 * np.sqrt(variance / weights.size)
    assert weights.var() == pytest.approx(variance, rel=0.03)
    if name.endswith("uniform"):
        limit = np.sqrt(3 * variance)  # glorot: sqrt(6 / (fan_in + fan_out))
        assert np.abs(weights).max() <= limit
        assert np.abs(weights).max() > 0.99 * limit
    else:
        # Keras: stddev = sqrt(variance) / 0.8796..., truncated at two of those stddevs
        stddev = np.sqrt(variance) / 0.87962566103423978
        assert np.abs(weights).max() <= 2 * stddev
        assert np.abs(weights).max() > 1.95 * stddev
    for other in WIDE.layers:
        assert not row[other.bias].any()  # zero biases, as Keras


def test_glorot_uniform_limit_is_keras() -> None:
    mlp = MLP([4, 8, 3])
    row = initial_params(mlp, "glorot_uniform", seed=1)
    assert np.abs(row[mlp.layers[0].weight]).max() <= np.sqrt(6 / 12)


def test_same_seed_same_params_other_seed_other_params() -> None:
    a = initial_params(WIDE, "he_normal", seed=7)
    b = initial_params(WIDE, "he_normal", seed=7)
    c = initial_params(WIDE, "he_normal", seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_params_take_the_model_dtype() -> None:
    mlp = MLP([3, 4, 2], dtype="float32")
    assert initial_params(mlp, "lecun_normal", seed=0).dtype == np.float32


def test_unknown_initializer_suggests() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'glorot_uniform'"):
        initial_params(WIDE, "glorot_unifrom", seed=0)


# ------------------------------------------------------------------------ npz weights
MODEL = MLP([4, 5, 3], "selu", "softmax", "cross_entropy")


def good_arrays() -> dict[str, np.ndarray]:
    return MODEL.to_arrays(initial_params(MODEL, "glorot_uniform", seed=3))


def test_round_trip_through_save_weights(tmp_path: Path) -> None:
    arrays = good_arrays()
    path = tmp_path / "w.npz"
    save_weights(path, arrays)
    loaded = load_weights(path, MODEL)
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)
    row = initial_params(MODEL, path, seed=999)  # the seed does not matter for a file
    np.testing.assert_array_equal(row, MODEL.from_arrays(arrays))
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write cleaned up


def test_integer_arrays_are_accepted_and_cast(tmp_path: Path) -> None:
    arrays = {k: np.ones_like(v, dtype=np.int64) for k, v in good_arrays().items()}
    np.savez(tmp_path / "w.npz", **arrays)
    mlp32 = MLP([4, 5, 3], "selu", "softmax", "cross_entropy", dtype="float32")
    loaded = load_weights(tmp_path / "w.npz", mlp32)
    assert all(v.dtype == np.float32 for v in loaded.values())


def expect_error(path: Path, *fragments: str) -> str:
    with pytest.raises(WeightsError) as error:
        load_weights(path, MODEL)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_missing_and_extra_keys(tmp_path: Path) -> None:
    arrays = good_arrays()
    del arrays["b2"]
    arrays["W3"] = np.zeros((3, 1))
    np.savez(tmp_path / "w.npz", **arrays)
    expect_error(tmp_path / "w.npz", "missing b2", "unexpected W3", "W1, b1, W2, b2")


def test_wrong_shapes(tmp_path: Path) -> None:
    arrays = good_arrays()
    arrays["W1"] = arrays["W1"].T  # torch's (out, in) instead of Keras's (in, out)
    np.savez(tmp_path / "w.npz", **arrays)
    expect_error(tmp_path / "w.npz", "W1", "(5, 4)", "expected (4, 5)")


@pytest.mark.parametrize(
    "bad", [np.array(["a", "b", "c"]), np.array([True, False, True]), np.ones(3, complex)]
)
def test_non_float_dtypes(tmp_path: Path, bad: np.ndarray) -> None:
    arrays = good_arrays()
    arrays["b2"] = bad
    np.savez(tmp_path / "w.npz", **arrays)
    expect_error(tmp_path / "w.npz", "b2", "dtype")


def test_object_arrays_are_refused_never_unpickled(tmp_path: Path) -> None:
    arrays: dict[str, np.ndarray] = dict(good_arrays())
    sentinel = tmp_path / "unpickled"
    arrays["b1"] = np.array([_Trap(str(sentinel)), 1, 2, 3, 4], dtype=object)
    np.savez(tmp_path / "w.npz", allow_pickle=True, **arrays)
    expect_error(tmp_path / "w.npz", "b1", "object")
    assert not sentinel.exists()


class _Trap:
    """Unpickling this would create a file: proof that loading never unpickles."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values(tmp_path: Path, value: float) -> None:
    arrays = good_arrays()
    arrays["W2"][1, 2] = value
    np.savez(tmp_path / "w.npz", **arrays)
    expect_error(tmp_path / "w.npz", "W2", "NaN or infinite")


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.npz", "not found")


def test_not_a_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    path.write_text("W1 = [[1, 2]]\n")
    expect_error(path, "not a readable .npz")


def test_a_bare_npy_array_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    expect_error(path, "not an .npz archive")


def test_truncated_zip(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    np.savez(path, **good_arrays())
    path.write_bytes(path.read_bytes()[:100])
    expect_error(path)


def test_an_empty_file_is_one_line_not_eof(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(b"")
    expect_error(path, "the file is empty", "np.savez")


def test_a_text_file_is_not_called_pickled(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    path.write_text("these are not weights\n" * 3)
    assert "pickled" not in expect_error(path, "not a zip archive")


def npy_header(shape: tuple[int, ...]) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return header.getvalue()


def archive_with_w1(path: Path, w1: bytes, compression: int = zipfile.ZIP_STORED) -> None:
    """good_arrays() in an .npz whose W1 member is the raw bytes ``w1``."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for key, value in good_arrays().items():
            member = io.BytesIO()
            np.save(member, value)
            archive.writestr(f"{key}.npy", w1 if key == "W1" else member.getvalue())


def test_a_header_declaring_a_huge_array_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    archive_with_w1(path, npy_header((10**7, 10**7)) + bytes(64))
    expect_error(path, "W1 has shape (10000000, 10000000), expected (4, 5)")


def test_a_small_file_inflating_to_much_more_is_checked_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    rows = 2048  # 2048 x 2048 float64: 32 MiB of zeros, a few kB compressed
    archive_with_w1(path, npy_header((rows, rows)) + bytes(rows * rows * 8), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        expect_error(path, f"W1 has shape ({rows}, {rows}), expected (4, 5)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # the array's data was never read


def test_weights_are_checked_after_the_cast_to_the_model_dtype(tmp_path: Path) -> None:
    arrays = good_arrays()
    arrays["W1"] = np.full((4, 5), 1e300)
    np.savez(tmp_path / "w.npz", **arrays)
    assert load_weights(tmp_path / "w.npz", MODEL)["W1"][0, 0] == 1e300  # fits float64
    mlp32 = MLP([4, 5, 3], "selu", "softmax", "cross_entropy", dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning either
        with pytest.raises(WeightsError, match="W1 has values beyond float32's range"):
            load_weights(tmp_path / "w.npz", mlp32)
