"""Datasets: every source, the course's selections, encodings, splits, scaling, CSV errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from tui_optim.engine.data import (
    DATASETS,
    BatchSchedule,
    DataError,
    DataSpec,
    load_dataset,
    lorenz_series,
    window,
)


@pytest.mark.parametrize("source", [name for name in DATASETS if name != "csv"])
def test_every_source_loads(source: str) -> None:
    data = load_dataset(DataSpec(source, validation=0.2), seed=3)
    assert data.n_train > data.n_val > 0
    assert data.X_train.shape == (data.n_train, data.n_features)
    assert data.Y_train.shape == (data.n_train, data.n_outputs)
    assert np.isfinite(data.X_train).all() and np.isfinite(data.Y_train).all()
    assert data.task == DATASETS[source].task
    again = load_dataset(DataSpec(source, validation=0.2), seed=3)
    np.testing.assert_array_equal(again.X_train, data.X_train)  # reproducible


def test_the_course_iris_selection_rows_0_to_98_column_2() -> None:
    iris = load_iris()
    data = load_dataset(DataSpec("iris", rows=(0, 99), columns=(2,), encoding="binary"), seed=0)
    assert data.n_train == 99 and data.n_features == 1 and data.n_outputs == 1
    np.testing.assert_array_equal(data.X_train, iris.data[:99, 2:3])
    np.testing.assert_array_equal(data.Y_train[:, 0], iris.target[:99])
    assert data.classes == ("setosa", "versicolor")


def test_digits_exercise_split_is_1437_360_stratified() -> None:
    data = load_dataset(DataSpec("digits", validation=0.2, encoding="onehot"), seed=42)
    assert (data.n_train, data.n_val, data.n_outputs) == (1437, 360, 10)
    train_share = np.bincount(data.labels_train) / data.n_train
    val_share = np.bincount(data.labels_val) / data.n_val
    np.testing.assert_allclose(train_share, val_share, atol=0.01)


def test_encodings() -> None:
    onehot = load_dataset(DataSpec("wine"), seed=0)
    assert onehot.encoding == "onehot" and onehot.n_outputs == 3
    np.testing.assert_array_equal(onehot.Y_train.argmax(axis=1), onehot.labels_train)
    index = load_dataset(DataSpec("wine", encoding="index"), seed=0)
    assert index.n_outputs == 1 and set(index.Y_train[:, 0]) == {0.0, 1.0, 2.0}
    binary = load_dataset(DataSpec("breast_cancer"), seed=0)
    assert binary.encoding == "binary" and binary.n_outputs == 1
    with pytest.raises(DataError, match="'binary' needs 2 classes"):
        load_dataset(DataSpec("iris", encoding="binary"), seed=0)
    with pytest.raises(DataError, match="needs classes"):
        load_dataset(DataSpec("sine", encoding="onehot"), seed=0)


def test_scaling_is_fitted_on_the_training_part_only() -> None:
    data = load_dataset(DataSpec("wine", scale="standard", validation=0.3), seed=1)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(data.X_val.mean(axis=0)).max() > 1e-3  # not re-centred on itself
    minmax = load_dataset(DataSpec("wine", scale="minmax", validation=0.3), seed=1)
    assert minmax.X_train.min() == 0.0 and minmax.X_train.max() == 1.0


def test_time_series_windows_and_a_chronological_validation_tail() -> None:
    series = np.arange(10.0)
    X, y = window(series, 3)
    np.testing.assert_array_equal(X[0], [0, 1, 2])
    assert y[0] == 3 and y[-1] == 9 and len(X) == 7
    data = load_dataset(DataSpec("logistic_map", validation=0.25, options={"samples": 200}), seed=0)
    assert data.n_train == 150 and data.n_val == 50
    # the first validation window continues the series where training stopped
    np.testing.assert_allclose(data.X_val[0, :-1], data.X_train[-1, 1:])


def test_lorenz_rk4_stays_on_the_attractor() -> None:
    x = lorenz_series(5000, 0.01)
    assert np.isfinite(x).all() and np.abs(x).max() < 25 and x.min() < -10 and x.max() > 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("a,b,label\n1,2\n", "2 cells, expected 3"),
        ("a,b,label\n1,x,0\n", "column 'b' is not a number"),
        ("a,b,label\n1,,0\n", "column 'b' is empty"),
        ("a,b,label\n1,nan,0\n", "column 'b' is 'nan'"),
        ("a,b,label\n1,2,0\n3,4,0\n", "only one class"),
    ],
)
def test_csv_errors_are_one_line_with_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(DataError) as error:
        load_dataset(DataSpec("csv", path=path, target="label"), seed=0)
    message = str(error.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_csv_target_by_name_header_detection_and_regression(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("x,y,kind\n1,2,cat\n3,4,dog\n5,6,cat\n")
    data = load_dataset(DataSpec("csv", path=path, target="kind"), seed=0)
    assert data.classes == ("cat", "dog") and data.feature_names == ("x", "y")
    with pytest.raises(DataError, match="did you mean 'kind'"):
        load_dataset(DataSpec("csv", path=path, target="kinds"), seed=0)
    numbers = tmp_path / "n.csv"
    numbers.write_text("1,2,0.5\n3,4,1.5\n5,6,2.25\n")
    regression = load_dataset(DataSpec("csv", path=numbers), seed=0)
    assert regression.task == "regression" and regression.n_features == 2


def test_batch_schedule_covers_each_row_once_and_is_reproducible() -> None:
    schedule = BatchSchedule(100, 32, True, seed=5)
    assert schedule.steps_per_epoch == 4
    batches = schedule.epoch(3)
    assert [len(b) for b in batches] == [32, 32, 32, 4]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(100))
    again = BatchSchedule(100, 32, True, seed=5).epoch(3)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    assert not np.array_equal(batches[0], schedule.epoch(4)[0])
    assert BatchSchedule(100, None, True, seed=5).epoch(0) == [None]
    assert BatchSchedule(100, 500, True, seed=5).steps_per_epoch == 1
    assert BatchSchedule(10, 1, False, seed=0).epoch(0)[3].tolist() == [3]


#: Every spelling of a non-finite number that Python's float() accepts, and an overflow.
NON_FINITE = ["Infinity", "-Infinity", "+inf", "iNf", "NaN", "-nan", "+NAN", "1e400", " inf "]


@pytest.mark.parametrize("cell", NON_FINITE)
def test_non_finite_csv_targets_are_refused_in_every_spelling(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,y\n1,2,0.5\n3,4,{cell}\n5,6,2.5\n")
    with pytest.raises(DataError, match=r"d\.csv:3: target column 'y' is"):
        load_dataset(DataSpec("csv", path=path), seed=0)


@pytest.mark.parametrize("cell", NON_FINITE)
def test_non_finite_csv_features_are_refused_in_every_spelling(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,y\n1,2,0.5\n3,{cell},1.5\n5,6,2.5\n")
    with pytest.raises(DataError, match=r"d\.csv:3: column 'b' is"):
        load_dataset(DataSpec("csv", path=path), seed=0)


def test_values_that_overflow_float32_are_refused_after_the_cast(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0.5\n3,4,1e39\n5,6,2.5\n")
    data = load_dataset(DataSpec("csv", path=path), seed=0)
    assert data.astype("float64").Y_train.max() == 1e39  # fits float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy overflow warning
        with pytest.raises(DataError, match="the target has values beyond float32's range"):
            data.astype("float32")
    path.write_text("a,b,y\n1,2,0.5\n3,-1e39,1.5\n5,6,2.5\n")
    features = load_dataset(DataSpec("csv", path=path), seed=0)
    with pytest.raises(DataError, match="column 'b' has values beyond float32's range"):
        features.astype(np.float32)


def test_values_too_large_to_scale_name_their_column_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,1e200,0.5\n3,-1e200,1.5\n5,6,2.5\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match="column 'b' holds values too large to scale"):
            load_dataset(DataSpec("csv", path=path, scale="standard"), seed=0)
