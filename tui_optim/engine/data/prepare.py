"""From a source's raw arrays to the prepared :class:`Dataset`.

In order: the row range (``rows``, on the raw rows), feature columns (``columns``), target
encoding, the validation split (stratified for classification; the last part of the series
for time series, which are about predicting ahead), then scaling fitted on the training part
only. Everything random comes from the scenario's seed. The spec's values were validated by
the scenario schema; what only the data can tell (a row range past the end, one class left)
is checked here.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from tui_optim.engine.data.registry import DATASETS
from tui_optim.engine.data.spec import DataError, Dataset, DataSpec, RawData
from tui_optim.engine.errors import unknown


def load_dataset(spec: DataSpec, seed: int) -> Dataset:
    """Load and prepare ``spec``'s data; raises :class:`DataError` (one line)."""
    info = DATASETS.get(spec.source)
    if info is None:
        raise DataError(unknown("data source", spec.source, DATASETS))
    raw = info.load(spec, info.with_defaults(spec.options), seed)
    raw = _select(raw, spec)
    encoding, Y = _encode(raw, spec.encoding, spec.source)
    X_train, Y_train, X_val, Y_val, l_train, l_val = _split(
        raw, Y, spec.validation, seed, spec.source
    )
    X_train, X_val, centre, spread = _scale(X_train, X_val, spec.scale, raw.feature_names)
    return Dataset(
        name=spec.source if spec.source != "csv" or spec.path is None else spec.path.name,
        task=raw.task,
        X_train=X_train,
        Y_train=Y_train,
        X_val=X_val,
        Y_val=Y_val,
        labels_train=l_train,
        labels_val=l_val,
        classes=raw.classes,
        feature_names=raw.feature_names,
        encoding=encoding,
        autoregressive=raw.time_series and spec.columns is None,
        x_centre=centre,
        x_spread=spread,
    )


def _select(raw: RawData, spec: DataSpec) -> RawData:
    X, target = raw.X, raw.target
    label = str(spec.path) if spec.source == "csv" and spec.path is not None else spec.source
    if spec.rows is not None:
        start, stop = spec.rows
        if not 0 <= start < stop <= len(X):
            raise DataError(
                f"data.rows [{start}, {stop}) must satisfy 0 <= start < stop <= {len(X)} "
                f"({spec.source} has {len(X)} rows)"
            )
        X, target = X[start:stop], target[start:stop]
    names = raw.feature_names
    if spec.columns is not None:
        bad = [c for c in spec.columns if not 0 <= c < X.shape[1]]
        if bad or not spec.columns:
            raise DataError(
                f"data.columns {list(spec.columns)}: indices must be in 0..{X.shape[1] - 1} "
                f"({spec.source} has {X.shape[1]} feature columns)"
            )
        X = X[:, list(spec.columns)]
        names = tuple(names[c] for c in spec.columns)
    classes = raw.classes
    if raw.task == "classification":
        present = np.unique(target)
        if len(present) < 2:
            raise DataError(
                f"{label}: only one class in the selected rows; classification needs two"
            )
        if classes is not None and len(present) < len(classes):
            # keep only the classes present (iris rows 0..98 hold setosa and versicolor)
            classes = tuple(classes[i] for i in present)
            target = np.searchsorted(present, target).astype(np.int64)
    return replace(
        raw, X=np.ascontiguousarray(X), target=target, classes=classes, feature_names=names
    )


def _encode(raw: RawData, encoding: str | None, source: str) -> tuple[str, np.ndarray]:
    if raw.task == "regression":
        if encoding not in (None, "value"):
            raise DataError(
                f"data.encoding {encoding!r} needs classes, but {source}'s target is a "
                f"continuous value; use 'value'"
            )
        return "value", raw.target.astype(np.float64)[:, None]
    assert raw.classes is not None
    count = len(raw.classes)
    if encoding is None:
        encoding = "onehot" if count > 2 else "binary"
    if encoding == "onehot":
        return encoding, np.eye(count)[raw.target]
    if encoding == "binary" and count > 2:
        raise DataError(
            f"data.encoding 'binary' needs 2 classes, {source} has {count}; use 'onehot' or 'index'"
        )
    return encoding, raw.target.astype(np.float64)[:, None]


def _split(
    raw: RawData, Y: np.ndarray, fraction: float, seed: int, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    labels = raw.target if raw.task == "classification" else None
    n = len(raw.X)
    n_val = math.ceil(n * fraction) if fraction > 0 else 0
    if fraction > 0 and (n_val < 1 or n - n_val < 1):
        raise DataError(f"data.validation {fraction:g} leaves no rows on one side ({n} rows)")
    if n_val == 0:
        return raw.X, Y, raw.X[:0], Y[:0], labels, None if labels is None else labels[:0]
    if raw.time_series:
        train, val = np.arange(n - n_val), np.arange(n - n_val, n)
    else:
        from sklearn.model_selection import train_test_split

        try:
            train, val = train_test_split(
                np.arange(n), test_size=fraction, random_state=seed, stratify=labels
            )
        except ValueError as error:
            raise DataError(
                f"{source}: cannot split off validation {fraction:g}: {error}"
            ) from None
    pick = (lambda a: a[train], lambda a: a[val])
    return (
        pick[0](raw.X),
        pick[0](Y),
        pick[1](raw.X),
        pick[1](Y),
        None if labels is None else pick[0](labels),
        None if labels is None else pick[1](labels),
    )


def _scale(
    X_train: np.ndarray, X_val: np.ndarray, scale: str, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scaled train and validation inputs, with the centre and spread fitted on train.

    Values too large for the statistics (a standard deviation of 1e200s overflows) are a
    DataError naming the column, not a NumPy warning and a column of zeros."""
    if scale == "none":
        width = X_train.shape[1]
        return X_train, X_val, np.zeros(width), np.ones(width)
    with np.errstate(over="ignore", invalid="ignore"):
        if scale == "standard":
            centre, spread = X_train.mean(axis=0), X_train.std(axis=0)
        else:
            centre = X_train.min(axis=0)
            spread = X_train.max(axis=0) - centre
    bad = ~(np.isfinite(centre) & np.isfinite(spread))
    if bad.any():
        column = int(np.argmax(bad))
        raise DataError(
            f"data.scale {scale!r}: column {names[column]!r} holds values too large to "
            f"scale (up to {float(np.max(np.abs(X_train[:, column]))):.3g})"
        )
    spread = np.where(spread > 0, spread, 1.0)  # constant columns (digits' blank pixels)
    return (X_train - centre) / spread, (X_val - centre) / spread, centre, spread
