"""Output heads: values against plain definitions, stability, valid combinations."""

from __future__ import annotations

import numpy as np
import pytest

from tui_optim.engine.errors import UnknownNameError
from tui_optim.engine.losses import (
    LOSSES,
    OUTPUTS,
    VALID_LOSSES,
    HeadError,
    _row_max,
    make_head,
)


def run(output: str, loss: str, z: np.ndarray, y: np.ndarray):
    head = make_head(output, loss)
    a, delta = np.empty_like(z), np.empty_like(z)
    z_before = z.copy()
    losses = head.value_and_delta(z, y, a, delta)
    np.testing.assert_array_equal(z, z_before)  # the head never overwrites z
    return losses, a, delta


def sample(seed: int = 0, width: int = 3):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=2.0, size=(2, 5, width)), rng


def test_linear_residual_losses_match_torch_definitions() -> None:
    z, rng = sample()
    y = rng.normal(scale=2.0, size=(5, 3))
    r = z - y
    expected = {
        "mse": (r**2).mean(axis=(1, 2)),
        "mae": np.abs(r).mean(axis=(1, 2)),
        "huber": np.where(np.abs(r) < 1, 0.5 * r**2, np.abs(r) - 0.5).mean(axis=(1, 2)),
    }
    assert (np.abs(r) > 1).any() and (np.abs(r) < 1).any()  # both Huber branches
    for loss, value in expected.items():
        losses, a, delta = run("linear", loss, z, y)
        np.testing.assert_allclose(losses, value, rtol=1e-14)
        np.testing.assert_array_equal(a, z)
    _, _, delta = run("linear", "huber", z, y)
    np.testing.assert_allclose(delta, np.clip(r, -1, 1) / 15, rtol=1e-15)


def test_sigmoid_heads() -> None:
    z, rng = sample(1)
    y = rng.integers(0, 2, size=(5, 3)).astype(float)
    p = 1 / (1 + np.exp(-z))
    losses, a, _ = run("sigmoid", "binary_cross_entropy", z, y)
    np.testing.assert_allclose(a, p, rtol=1e-15)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=(1, 2))
    np.testing.assert_allclose(losses, bce, rtol=1e-13)
    losses, a, _ = run("sigmoid", "mse", z, y)
    np.testing.assert_allclose(losses, ((p - y) ** 2).mean(axis=(1, 2)), rtol=1e-14)


def test_softmax_cross_entropy_matches_definition() -> None:
    z, rng = sample(2, width=4)
    y = np.eye(4)[rng.integers(0, 4, size=5)]
    losses, a, delta = run("softmax", "cross_entropy", z, y)
    p = np.exp(z) / np.exp(z).sum(axis=2, keepdims=True)
    np.testing.assert_allclose(a, p, rtol=1e-14)
    np.testing.assert_allclose(losses, -(y * np.log(p)).sum(axis=2).mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(delta, (p - y) / 5, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("width", [2, 3, 8, 9, 12])
def test_softmax_is_stable_for_any_width(width: int) -> None:
    """The row max is taken pairwise for narrow outputs and by reduction for wide ones."""
    z = np.full((1, 2, width), -1e4)
    z[0, 0, width - 1] = 1e4
    z[0, 1, 0] = 1e4
    y = np.zeros((2, width))
    y[:, 0] = 1.0
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses, a, delta = run("softmax", "cross_entropy", z, y)
    assert losses[0] == pytest.approx(1e4, rel=1e-14)  # (2e4 + 0) / 2
    assert np.isfinite(delta).all()
    np.testing.assert_array_equal(a[0, 0, -1], 1.0)


@pytest.mark.parametrize("racers", [1, 3])
def test_confident_predictions_never_give_a_negative_loss(racers: int) -> None:
    """Each example's loss is summed as y (lse - z) >= 0: as sum(y lse) - sum(y z), large
    sums cancelled to losses like -2e-14 (seen on the digits), which turned charts linear."""
    negative = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 10, size=1000)
        y = np.eye(10)[labels]
        z = rng.normal(scale=3.0, size=(racers, 1000, 10))
        z[:, np.arange(1000), labels] += rng.uniform(40.0, 60.0, size=1000)
        losses, _, _ = run("softmax", "cross_entropy", z, y)
        peak = z.max(axis=2, keepdims=True)
        lse = np.log(np.exp(z - peak).sum(axis=2)) + peak[..., 0]
        expected = (lse - z[:, np.arange(1000), labels]).mean(axis=1)
        np.testing.assert_allclose(losses, expected, rtol=1e-12, atol=1e-15)
        negative += [loss for loss in losses if loss < 0]
        logits = rng.normal(scale=3.0, size=(racers, 1000, 2)) + 40.0
        binary = rng.integers(0, 2, size=(1000, 2)).astype(float)
        logits *= 2 * binary - 1  # every logit far on its target's side
        bce, _, _ = run("sigmoid", "binary_cross_entropy", logits, binary)
        negative += [loss for loss in bce if loss < 0]
    assert negative == []


def test_softmax_of_a_single_output_is_one_with_zero_loss() -> None:
    z = np.array([[[3.0], [-1e4]]])
    losses, a, delta = run("softmax", "cross_entropy", z, np.ones((2, 1)))
    np.testing.assert_array_equal(a, 1.0)
    np.testing.assert_array_equal(losses, 0.0)
    np.testing.assert_array_equal(delta, 0.0)


@pytest.mark.parametrize("loss", ["mae", "mse", "huber"])
@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_zero_residual_gives_zero_loss_and_delta(output: str, loss: str) -> None:
    z, _ = sample(3)
    y = z[0] if output == "linear" else 1 / (1 + np.exp(-z[0]))
    losses, _, delta = run(output, loss, z[:1].copy(), y)
    assert losses[0] == 0.0 and np.all(delta == 0.0)


def test_bce_at_huge_logits_is_exact_and_warning_free() -> None:
    z = np.array([[[1000.0, -1000.0, 1000.0, -1000.0]]])
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses, a, delta = run("sigmoid", "binary_cross_entropy", z, y)
    assert losses[0] == 500.0  # (0 + 0 + 1000 + 1000) / 4
    np.testing.assert_array_equal(a, [[[1.0, 0.0, 1.0, 0.0]]])
    np.testing.assert_array_equal(delta, [[[0.0, 0.0, 0.25, -0.25]]])


def test_valid_combinations_table() -> None:
    for output in OUTPUTS:
        for loss in LOSSES:
            if loss in VALID_LOSSES[output]:
                assert make_head(output, loss).loss == loss
            else:
                with pytest.raises(HeadError) as error:
                    make_head(output, loss)
                message = str(error.value)
                assert "\n" not in message
                assert all(ok in message for ok in VALID_LOSSES[output])


def test_unknown_output_and_loss_names() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'softmax'"):
        make_head("sofmax", "cross_entropy")
    with pytest.raises(UnknownNameError, match="did you mean 'huber'"):
        make_head("linear", "hubber")


@pytest.mark.parametrize(
    "shape", [(5, 1), (32, 3), (32, 10), (1437, 10), (2, 700, 12), (40, 100), (3, 8)]
)
def test_row_max_by_columns_or_by_reduction_is_the_max(shape: tuple[int, ...]) -> None:
    """Pairwise column maxima (tall arrays) and one reduction (short or wide) agree."""
    z = np.random.default_rng(len(shape) * shape[-1]).normal(size=shape)
    z.flat[3] = np.nan
    out = np.empty(shape[:-1])
    np.testing.assert_array_equal(_row_max(z, out), z.max(axis=-1))
