"""CSV files: numeric feature columns and a target column (class names or values)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.data.spec import DataError, DatasetInfo, DataSpec, RawData
from tui_optim.engine.errors import suggest

#: An integer-valued numeric CSV target with at most this many distinct values is a class.
MAX_NUMERIC_CLASSES = 20


def _finite_number(cell: str) -> float | None:
    """The cell's value when it is a finite number in any spelling ``float()`` accepts
    ("1e3", " 2 ", "1_000"); None otherwise ("Infinity", "nan", "abc", "")."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _load(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    path = spec.path
    if path is None:
        raise DataError("data.path: a csv source needs a path")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle)]
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (data.path)") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: cannot read it as CSV ({error})") from None
    numbered = [
        (line, row) for line, row in enumerate(rows, start=1) if any(c.strip() for c in row)
    ]
    if not numbered:
        raise DataError(f"{path}: the file is empty")
    header: list[str] | None = None
    first = numbered[0][1]
    if any(not _is_number(cell) for cell in first):
        header = [cell.strip() for cell in first]
        numbered = numbered[1:]
    if not numbered:
        raise DataError(f"{path}: no data rows after the header")
    width = len(header) if header is not None else len(numbered[0][1])
    if width < 2:
        raise DataError(f"{path}: needs at least one feature column and a target column")
    for line, row in numbered:
        if len(row) != width:
            raise DataError(f"{path}:{line}: {len(row)} cells, expected {width} (ragged rows)")
    names = header or [f"column {i}" for i in range(width)]
    target_index = _target_index(path, spec.target, names, width)
    features = [i for i in range(width) if i != target_index]
    X = np.empty((len(numbered), len(features)))
    for r, (line, row) in enumerate(numbered):
        for c, column in enumerate(features):
            cell = row[column].strip()
            if not _is_number(cell):
                what = "empty" if not cell else f"not a number ({cell!r})"
                raise DataError(f"{path}:{line}: column {names[column]!r} is {what}")
            value = _finite_number(cell)
            if value is None:
                raise DataError(f"{path}:{line}: column {names[column]!r} is {cell!r}")
            X[r, c] = value
    raw_target = [row[target_index].strip() for _, row in numbered]
    for (line, _), cell in zip(numbered, raw_target, strict=True):
        if not cell or (_is_number(cell) and _finite_number(cell) is None):
            raise DataError(f"{path}:{line}: target column {names[target_index]!r} is {cell!r}")
    feature_names = tuple(names[i] for i in features)
    numeric = all(_is_number(cell) for cell in raw_target)
    if numeric:
        values = np.array([float(cell) for cell in raw_target])
        distinct = np.unique(values)
        integer = bool(np.all(values == np.round(values)))
        if spec.encoding == "value" or not integer or len(distinct) > MAX_NUMERIC_CLASSES:
            return RawData(X, values, "regression", None, feature_names)
        labels = np.searchsorted(distinct, values).astype(np.int64)
        classes = tuple(f"{v:g}" for v in distinct)
    else:
        classes = tuple(sorted(set(raw_target)))
        labels = np.array([classes.index(cell) for cell in raw_target], dtype=np.int64)
    return RawData(X, labels, "classification", classes, feature_names)


def _target_index(path: Path, target: str | int | None, names: list[str], width: int) -> int:
    if target is None:
        return width - 1
    if isinstance(target, int) and not isinstance(target, bool):
        if not -width <= target < width:
            raise DataError(f"{path}: data.target {target} is outside columns 0..{width - 1}")
        return target % width
    if isinstance(target, str) and target in names:
        return names.index(target)
    raise DataError(
        f"{path}: data.target {target!r} is not a column{suggest(str(target), names)}; "
        f"columns: {', '.join(names)}"
    )


ENTRIES = (
    DatasetInfo(
        "csv",
        "classification",
        "a CSV file: path, target column (default last)",
        _load,
        takes_path=True,
    ),
)
