"""The MLP: gradients (finite differences and torch autograd), lockstep, buffers, errors."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tui_optim.engine import mlp as mlp_module
from tui_optim.engine.activations import ACTIVATIONS
from tui_optim.engine.losses import VALID_LOSSES, HeadError
from tui_optim.engine.mlp import MLP, ModelError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gradients.npz"
HEADS = [(output, loss) for output, losses in VALID_LOSSES.items() for loss in losses]


def random_problem(
    mlp: MLP, seed: int, batch: int = 7, racers: int = 1, targets: str = "values"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = rng.normal(scale=0.7, size=(racers, mlp.n_params))
    x = rng.normal(scale=1.2, size=(batch, mlp.sizes[0]))
    width = mlp.sizes[-1]
    if targets == "one_hot":
        y = np.eye(width)[rng.integers(0, width, size=batch)]
    elif targets == "binary":
        y = rng.integers(0, 2, size=(batch, width)).astype(np.float64)
    elif targets == "wide":
        y = rng.normal(scale=3.0, size=(batch, width))
    else:
        y = rng.normal(size=(batch, width))
    return params, x, y


def targets_for(output: str, loss: str) -> str:
    if output == "softmax":
        return "one_hot"
    if output == "sigmoid":
        return "binary"
    return "wide" if loss == "huber" else "values"


def central_differences(
    mlp: MLP, params: np.ndarray, x: np.ndarray, y: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Numerical gradient of the loss of one racer (1, P), one coordinate at a time."""
    grad = np.empty(mlp.n_params)
    for index in range(mlp.n_params):
        plus = params.copy()
        minus = params.copy()
        plus[0, index] += h
        minus[0, index] -= h
        grad[index] = (mlp.loss(plus, x, y)[0] - mlp.loss(minus, x, y)[0]) / (2 * h)
    return grad


def analytic(mlp: MLP, params: np.ndarray, x: np.ndarray, y: np.ndarray):
    grad = np.empty_like(params)
    losses = mlp.loss_and_grad(params, x, y, grad)
    return losses, grad


def assert_gradient_matches(mlp: MLP, params, x, y) -> None:
    losses, grad = analytic(mlp, params, x, y)
    np.testing.assert_allclose(losses, mlp.loss(params, x, y), rtol=1e-15)
    numeric = central_differences(mlp, params, x, y)
    scale = np.abs(numeric).max()
    assert scale > 1e-6, "a vanishing gradient would check nothing"
    np.testing.assert_allclose(grad[0], numeric, rtol=1e-6, atol=1e-7 * scale)


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_gradient_of_every_hidden_activation(hidden: str) -> None:
    mlp = MLP([3, 5, 4, 2], hidden, "linear", "mse")
    assert_gradient_matches(mlp, *random_problem(mlp, seed=1))


@pytest.mark.parametrize(("output", "loss"), HEADS)
def test_gradient_of_every_head(output: str, loss: str) -> None:
    width = 3 if output == "softmax" else 2
    mlp = MLP([3, 4, width], "tanh", output, loss)
    assert_gradient_matches(mlp, *random_problem(mlp, seed=2, targets=targets_for(output, loss)))


def test_gradient_with_soft_targets() -> None:
    """Cross-entropy with probability targets and BCE with fractional targets."""
    rng = np.random.default_rng(3)
    softmax = MLP([3, 4, 4], "elu", "softmax", "cross_entropy")
    params, x, _ = random_problem(softmax, seed=3)
    raw = rng.uniform(size=(7, 4))
    assert_gradient_matches(softmax, params, x, raw / raw.sum(axis=1, keepdims=True))
    # targets that do not sum to 1: the gradient is sum(y) p - y, not p - y
    assert_gradient_matches(softmax, params, x, raw)
    bce = MLP([3, 4, 2], "relu", "sigmoid", "binary_cross_entropy")
    params, x, _ = random_problem(bce, seed=4)
    assert_gradient_matches(bce, params, x, rng.uniform(size=(7, 2)))


@pytest.mark.parametrize(
    ("layers", "hidden", "output", "loss"),
    [
        ([4, 6, 5, 4, 3], "selu", "softmax", "cross_entropy"),
        ([2, 5, 5, 5, 5, 1], "tanh", "linear", "huber"),
        ([1, 3, 1], "sigmoid", "sigmoid", "mae"),
        ([5, 3], "linear", "sigmoid", "binary_cross_entropy"),  # no hidden layer at all
    ],
)
def test_gradient_of_deeper_and_shallower_nets(layers, hidden, output, loss) -> None:
    mlp = MLP(layers, hidden, output, loss)
    assert_gradient_matches(mlp, *random_problem(mlp, seed=5, targets=targets_for(output, loss)))


@pytest.mark.parametrize(("output", "loss"), HEADS)
def test_lockstep_rows_equal_each_racer_alone(output: str, loss: str) -> None:
    width = 3 if output == "softmax" else 2
    mlp = MLP([4, 6, 5, width], "selu", output, loss)
    params, x, y = random_problem(mlp, 6, batch=9, racers=5, targets=targets_for(output, loss))
    losses, grad = analytic(mlp, params, x, y)
    for row in range(5):
        alone_loss, alone_grad = analytic(mlp, params[row : row + 1].copy(), x, y)
        np.testing.assert_allclose(losses[row], alone_loss[0], rtol=1e-13)
        np.testing.assert_allclose(grad[row], alone_grad[0], rtol=1e-13, atol=1e-15)
    outputs = mlp.forward(params, x)
    for row in range(5):
        np.testing.assert_allclose(outputs[row], mlp.forward(params[row : row + 1], x)[0])


@pytest.mark.parametrize("racers", [1, 3])
@pytest.mark.parametrize("hidden", ["selu", "tanh", "linear"])
def test_a_large_batch_activated_block_by_block_gives_the_same_bits(
    monkeypatch: pytest.MonkeyPatch, racers: int, hidden: str
) -> None:
    """Blocks of rows (each racer with its own biases, a short last block) change nothing."""
    mlp = MLP([5, 9, 7, 3], hidden, "softmax", "cross_entropy")
    params, x, y = random_problem(mlp, 21, batch=50, racers=racers, targets="one_hot")
    whole_losses, whole_grad = analytic(mlp, params, x, y)
    whole_outputs = mlp.forward(params, x)
    monkeypatch.setattr(mlp_module, "BLOCK_ELEMENTS", 4 * racers * 9)  # 4 rows, 13 blocks
    blocked = MLP([5, 9, 7, 3], hidden, "softmax", "cross_entropy")
    losses, grad = analytic(blocked, params, x, y)
    np.testing.assert_array_equal(losses, whole_losses)
    np.testing.assert_array_equal(grad, whole_grad)
    np.testing.assert_array_equal(blocked.forward(params, x), whole_outputs)
    assert blocked._buffers_for(racers, 50).z[0].size > 2 * mlp_module.BLOCK_ELEMENTS


def test_lockstep_on_rows_of_a_larger_array() -> None:
    """Blocks are row slices of the race's arrays: strided views must work in place."""
    mlp = MLP([3, 4, 2], "relu", "linear", "mse")
    params, x, y = random_problem(mlp, 7, racers=6)
    grads = np.zeros_like(params)
    block = mlp.loss_and_grad(params[2:5], x, y, grads[2:5])
    full = np.empty_like(params)
    everything = mlp.loss_and_grad(params, x, y, full)
    np.testing.assert_allclose(block, everything[2:5], rtol=1e-13)
    np.testing.assert_allclose(grads[2:5], full[2:5], rtol=1e-13, atol=1e-15)
    assert not grads[:2].any() and not grads[5:].any()


@pytest.mark.parametrize(("output", "loss"), HEADS)
def test_float32_agrees_with_float64(output: str, loss: str) -> None:
    width = 3 if output == "softmax" else 2
    mlp64 = MLP([4, 8, width], "selu", output, loss)
    mlp32 = MLP([4, 8, width], "selu", output, loss, dtype="float32")
    params, x, y = random_problem(mlp64, 8, racers=3, targets=targets_for(output, loss))
    grad32 = np.empty(params.shape, np.float32)
    losses32 = mlp32.loss_and_grad(params.astype(np.float32), x, y, grad32)
    losses64, grad64 = analytic(mlp64, params, x, y)
    assert losses32.dtype == np.float32
    np.testing.assert_allclose(losses32, losses64, rtol=2e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=2e-4, atol=2e-5 * np.abs(grad64).max())


def test_torch_fixture_is_small() -> None:
    assert FIXTURES.stat().st_size < 300_000


def fixture_cases() -> list[str]:
    with np.load(FIXTURES, allow_pickle=False) as archive:
        return sorted({key.split("__")[0] for key in archive.files})


@pytest.mark.parametrize("case", fixture_cases())
def test_matches_torch_autograd(case: str) -> None:
    """Loss and gradient equal torch's (scripts/make_gradient_fixtures.py) to 1e-12."""
    with np.load(FIXTURES, allow_pickle=False) as archive:
        layers, hidden, output, loss = (str(v) for v in archive[f"{case}__spec"])
        row, x, y = (archive[f"{case}__{k}"] for k in ("params", "x", "y"))
        torch_loss, torch_grad = archive[f"{case}__loss"], archive[f"{case}__grad"]
    mlp = MLP([int(n) for n in layers.split(",")], hidden, output, loss)
    losses, grad = analytic(mlp, row[None, :].copy(), x, y)
    np.testing.assert_allclose(losses[0], torch_loss, rtol=1e-12)
    np.testing.assert_allclose(
        grad[0], torch_grad, rtol=1e-12, atol=1e-12 * np.abs(torch_grad).max()
    )


def test_buffers_are_reused_and_memory_does_not_grow() -> None:
    mlp = MLP([4, 8, 3], "selu", "softmax", "cross_entropy")
    params, x, y = random_problem(mlp, 9, batch=32, racers=4, targets="one_hot")
    grad = np.empty_like(params)
    mlp.loss_and_grad(params, x, y, grad)
    buffers = mlp._buffers_for(4, 32)
    first_z = [z for z in buffers.z]
    for _ in range(3):
        mlp.loss_and_grad(params, x, y, grad)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            mlp.loss_and_grad(params, x, y, grad)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 4096, f"memory grew by {grown} bytes over 200 steps"
    assert mlp._buffers_for(4, 32) is buffers
    assert all(a is b for a, b in zip(first_z, buffers.z, strict=True))


def test_buffer_cache_is_bounded_when_batch_sizes_change() -> None:
    mlp = MLP([2, 3, 1], "tanh", "linear", "mse")
    params = np.zeros((1, mlp.n_params))
    for batch in range(1, 40):
        mlp.loss(params, np.zeros((batch, 2)), np.zeros((batch, 1)))
    assert len(mlp._buffers) <= 9


def test_views_share_memory_with_the_flat_row() -> None:
    mlp = MLP([4, 5, 3], "relu", "softmax", "cross_entropy")
    flat = np.arange(2 * mlp.n_params, dtype=np.float64).reshape(2, mlp.n_params)
    views = mlp.views(flat)
    assert [(w.shape, b.shape) for w, b in views] == [
        ((2, 4, 5), (2, 1, 5)),
        ((2, 5, 3), (2, 1, 3)),
    ]
    for weight, bias in views:
        assert np.shares_memory(weight, flat) and np.shares_memory(bias, flat)
    views[1][1][1, 0, 2] = -7.0
    assert flat[1, mlp.layers[1].bias][2] == -7.0
    # Keras layout: W1 row-major (in, out), then b1, then W2 ...
    assert mlp.layers[0].weight == slice(0, 20) and mlp.layers[0].bias == slice(20, 25)
    np.testing.assert_array_equal(views[0][0][0], np.arange(20.0).reshape(4, 5))


def test_to_arrays_and_from_arrays_round_trip() -> None:
    mlp = MLP([3, 4, 2], "tanh", "linear", "mse")
    row = np.random.default_rng(10).normal(size=mlp.n_params)
    arrays = mlp.to_arrays(row)
    assert {k: v.shape for k, v in arrays.items()} == {
        "W1": (3, 4),
        "b1": (4,),
        "W2": (4, 2),
        "b2": (2,),
    }
    assert not np.shares_memory(arrays["W1"], row)
    np.testing.assert_array_equal(mlp.from_arrays(arrays), row)


def test_new_arrays_each_step_get_fresh_views() -> None:
    """The view cache must never write into an array other than the one passed."""
    mlp = MLP([3, 4, 2], "tanh", "linear", "mse")
    params, x, y = random_problem(mlp, 11)
    expected = analytic(mlp, params, x, y)[1]
    for _ in range(40):
        grad = np.full_like(params, np.nan)
        mlp.loss_and_grad(params.copy(), x, y, grad)
        np.testing.assert_array_equal(grad, expected)


@pytest.mark.parametrize(("output", "loss"), [("linear", "mae"), ("sigmoid", "mae")])
def test_mae_gradient_at_zero_residual_is_exactly_zero(output: str, loss: str) -> None:
    mlp = MLP([2, 3, 2], "tanh", output, loss)
    params, x, _ = random_problem(mlp, 12)
    y = mlp.forward(params, x)[0]  # every residual exactly zero
    losses, grad = analytic(mlp, params, x, y)
    assert losses[0] == 0.0
    assert np.all(grad == 0.0)


@pytest.mark.parametrize(
    ("output", "loss", "y", "expected"),
    [
        ("softmax", "cross_entropy", [[0.0, 1.0, 0.0]], 2000.0),
        ("softmax", "cross_entropy", [[1.0, 0.0, 0.0]], 0.0),
        ("sigmoid", "binary_cross_entropy", [[0.0, 1.0, 1.0]], (2000.0 + np.log(2.0)) / 3),
    ],
)
def test_stable_heads_at_huge_logits(output, loss, y, expected) -> None:
    """Logits of +-1000 give finite losses and gradients, with no overflow anywhere."""
    mlp = MLP([1, 3], "linear", output, loss)
    weights = {"W1": np.array([[1000.0, -1000.0, 0.0]]), "b1": np.zeros(3)}
    params = mlp.from_arrays(weights)[None, :]
    x = np.ones((1, 1))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses, grad = analytic(mlp, params, x, np.array(y))
    assert np.isfinite(losses).all() and np.isfinite(grad).all()
    assert losses[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert np.abs(grad).max() <= 1000.0


def test_forward_gives_output_activations() -> None:
    mlp = MLP([3, 4, 3], "relu", "softmax", "cross_entropy")
    params, x, y = random_problem(mlp, 13, racers=2, targets="one_hot")
    outputs = mlp.forward(params, x)
    assert outputs.shape == (2, 7, 3)
    np.testing.assert_allclose(outputs.sum(axis=2), 1.0, rtol=1e-14)
    losses, same = mlp.loss_and_outputs(params, x, y)
    np.testing.assert_array_equal(outputs, same)
    expected = -(y * np.log(outputs)).sum(axis=2).mean(axis=1)
    np.testing.assert_allclose(losses, expected, rtol=1e-13)


def test_float64_inputs_are_cast_for_a_float32_model() -> None:
    mlp = MLP([2, 3, 1], "relu", "linear", "mse", dtype=np.float32)
    params = np.ones((1, mlp.n_params), np.float32)
    grad = np.empty_like(params)
    losses = mlp.loss_and_grad(params, np.ones((4, 2)), np.zeros((4, 1)), grad)
    assert losses.dtype == np.float32 and grad.dtype == np.float32
    assert losses[0] == pytest.approx(100.0)  # hidden units 1 + 1 + 1 = 3, output 3 * 3 + 1


@pytest.mark.parametrize(
    ("output", "loss"), [("softmax", "mse"), ("linear", "cross_entropy"), ("softmax", "mae")]
)
def test_invalid_head_combinations_raise_one_line_errors(output: str, loss: str) -> None:
    with pytest.raises(HeadError) as error:
        MLP([2, 3], "relu", output, loss)
    message = str(error.value)
    assert "\n" not in message and loss in message and output in message


@pytest.mark.parametrize(
    "layers",
    [[4], [], [4, 0, 3], [4, 2.5, 3], [4, True, 3], [4, -1], [4, 5000], ["4", 3]],
)
def test_bad_layer_sizes_raise_model_error(layers) -> None:
    with pytest.raises(ModelError) as error:
        MLP(layers)
    assert "\n" not in str(error.value) and "layers" in str(error.value)


@pytest.mark.parametrize("dtype", ["int32", "float16", np.complex128, "float128"])
def test_bad_dtype_raises_model_error(dtype) -> None:
    with pytest.raises((ModelError, TypeError)) as error:
        MLP([2, 2], dtype=dtype)
    assert error.type is ModelError
    assert "dtype" in str(error.value) and "\n" not in str(error.value)


def test_wrong_parameter_or_input_shapes_raise_model_error() -> None:
    mlp = MLP([3, 2], "relu", "linear", "mse")
    with pytest.raises(ModelError, match="parameters must be"):
        mlp.loss(np.zeros((1, mlp.n_params + 1)), np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ModelError, match="inputs must be"):
        mlp.loss(np.zeros((1, mlp.n_params)), np.zeros((2, 4)), np.zeros((2, 2)))


def test_parameter_count_and_repr() -> None:
    mlp = MLP([64, 128, 64, 32, 16, 10], "selu", "softmax", "cross_entropy")
    assert mlp.n_params == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 32 + 32 + 32 * 16 + 16 + 170
    assert "selu" in repr(mlp) and "cross_entropy" in repr(mlp)


def test_outputs_for_inputs_of_each_racer_are_those_forward_gives() -> None:
    """(R, B, in) inputs: loss_and_outputs reads the buffers of batch B, not of R."""
    mlp = MLP([3, 5, 2], "tanh", "linear", "mse")
    params, _, y = random_problem(mlp, 31, batch=6, racers=4)
    x = np.random.default_rng(32).normal(size=(4, 6, 3))
    losses, outputs = mlp.loss_and_outputs(params, x, y)
    np.testing.assert_array_equal(outputs, mlp.forward(params, x))
    np.testing.assert_array_equal(losses, mlp.loss(params, x, y))


@pytest.mark.parametrize(("output", "loss"), HEADS)
@pytest.mark.parametrize("racers", [1, 3])
def test_an_evaluation_has_the_bits_of_a_training_step_and_its_predicted_classes(
    output: str, loss: str, racers: int
) -> None:
    """loss_and_scores skips the gradient, never the arithmetic of the loss: its losses
    are bit for bit those of loss_and_grad and loss_and_outputs, and its scores rank each
    row's classes as the output activations do."""
    mlp = MLP([3, 5, 4], "selu", output, loss)
    targets = targets_for(output, loss)
    params, x, y = random_problem(mlp, 43, batch=40, racers=racers, targets=targets)
    trained, _ = analytic(mlp, params, x, y)
    evaluated, outputs = mlp.loss_and_outputs(params, x, y)
    losses, scores = mlp.loss_and_scores(params, x, y)
    np.testing.assert_array_equal(losses, trained)
    np.testing.assert_array_equal(losses, evaluated)
    np.testing.assert_array_equal(scores.argmax(axis=2), outputs.argmax(axis=2))
    assert np.unique(outputs.argmax(axis=2)).size > 1, "one class everywhere checks no order"
