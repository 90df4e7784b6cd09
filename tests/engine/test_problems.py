"""Problems: what a racer minimises, through the one interface the race uses."""

from __future__ import annotations

import numpy as np
import pytest

from tui_optim.engine import problems
from tui_optim.engine.data import DataSpec, load_dataset
from tui_optim.engine.mlp import MLP
from tui_optim.engine.problems import MLPProblem, SurfaceProblem
from tui_optim.engine.surfaces import get_surface


@pytest.fixture(scope="module")
def iris_problem() -> MLPProblem:
    data = load_dataset(DataSpec("iris", scale="standard", validation=0.2), seed=0)
    return MLPProblem(MLP([4, 8, 3], hidden="tanh", output="softmax", loss="cross_entropy"), data)


def test_tensors_tile_the_parameter_row_in_order(iris_problem: MLPProblem) -> None:
    tensors = iris_problem.tensors()
    assert [(t.name, t.shape) for t in tensors] == [
        ("W1", (4, 8)),
        ("b1", (8,)),
        ("W2", (8, 3)),
        ("b2", (3,)),
    ]
    stop = 0
    for tensor in tensors:
        assert tensor.columns.start == stop
        assert tensor.columns.stop - tensor.columns.start == int(np.prod(tensor.shape))
        stop = tensor.columns.stop
    assert stop == iris_problem.n_params


def test_a_batch_of_all_rows_is_the_full_batch(iris_problem: MLPProblem) -> None:
    params = np.stack([iris_problem.initial_params(seed) for seed in (0, 1)])
    full, every_row = np.empty_like(params), np.empty_like(params)
    losses = iris_problem.loss_and_grad(params, None, full)
    batch = np.arange(iris_problem.n_train)
    np.testing.assert_array_equal(iris_problem.loss_and_grad(params, batch, every_row), losses)
    np.testing.assert_array_equal(every_row, full)


def test_evaluation_gives_a_loss_and_an_accuracy_per_racer(iris_problem: MLPProblem) -> None:
    params = np.stack([iris_problem.initial_params(seed) for seed in (0, 1, 2)])
    for split in ("train", "val"):
        evaluation = iris_problem.evaluate(params, split)
        assert evaluation.loss.shape == (3,)
        assert evaluation.accuracy is not None and evaluation.accuracy.shape == (3,)
        assert np.all((evaluation.accuracy >= 0) & (evaluation.accuracy <= 1))
    assert iris_problem.is_classification and iris_problem.has_validation


def test_the_same_seed_gives_the_same_initial_weights(iris_problem: MLPProblem) -> None:
    np.testing.assert_array_equal(iris_problem.initial_params(5), iris_problem.initial_params(5))
    assert not np.array_equal(iris_problem.initial_params(5), iris_problem.initial_params(6))


def test_a_surface_problem_is_its_function_at_the_point() -> None:
    peaks = get_surface("peaks")
    problem = SurfaceProblem(peaks, start=(-0.35, -0.67))
    point = problem.initial_params(seed=123)[None, :]
    np.testing.assert_array_equal(point, [[-0.35, -0.67]])
    grad = np.empty_like(point)
    loss = problem.loss_and_grad(point, None, grad)
    np.testing.assert_array_equal(loss, peaks.value(point))
    np.testing.assert_array_equal(grad, peaks.gradient(point))
    np.testing.assert_array_equal(problem.evaluate(point, "train").loss, loss)
    assert [t.shape for t in problem.tensors()] == [(2,)]
    with pytest.raises(TypeError):
        problem.horizon(point)


def test_a_large_split_is_evaluated_in_passes_that_give_the_one_pass_figures() -> None:
    data = load_dataset(DataSpec("digits", scale="standard", validation=0.2), seed=0)
    mlp = MLP([64, 512, 10], hidden="selu", output="softmax", loss="cross_entropy")
    problem = MLPProblem(mlp, data)
    params = np.stack([problem.initial_params(seed) for seed in range(3)])
    chunk = problems.EVALUATION_ELEMENTS // (3 * 512)
    assert problem.n_train > chunk  # more than one pass
    evaluation = problem.evaluate(params, "train")
    x, y = problem.data.X_train, problem.data.Y_train
    loss, outputs = problem.mlp.loss_and_outputs(params, x, y)
    labels = problem.predict_labels(outputs)
    assert np.allclose(evaluation.loss, loss, rtol=1e-12, atol=0)
    assert evaluation.accuracy is not None
    assert np.array_equal(evaluation.accuracy, (labels == problem.data.labels_train).mean(axis=1))
