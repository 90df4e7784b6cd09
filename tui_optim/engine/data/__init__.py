"""Datasets, their preparation, and the batch schedule every racer shares.

Sources: scikit-learn's bundled data (iris, digits, wine, breast_cancer: no download),
TensorFlow-Playground-like 2-D classification (moons, circles, xor, spiral, blobs),
regression (sine, and the chaotic series lorenz and logistic_map windowed into
"k past values -> next value"), and CSV files.

Preparation, in order: the row range (``rows``, on the raw rows), feature columns
(``columns``), target encoding, the validation split (stratified for classification; the
last part of the series for time series, which are about predicting ahead), then scaling
fitted on the training part only. Everything random comes from the scenario's seed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tui_optim.engine.errors import UnknownNameError, suggest, unknown
from tui_optim.engine.optimizers.base import HParam, HyperparameterError

Task = Literal["classification", "regression"]
ENCODINGS = ("onehot", "binary", "index", "value")
SCALINGS = ("none", "standard", "minmax")
MAX_SAMPLES = 1_000_000
MAX_WINDOW = 1000
#: An integer-valued numeric CSV target with at most this many distinct values is a class.
MAX_NUMERIC_CLASSES = 20


class DataError(ValueError):
    """Data that cannot be used; the message is one line naming source, field and value."""


@dataclass(frozen=True)
class DataSpec:
    """The scenario's ``[data]`` table (already type-checked by the scenario parser)."""

    source: str
    path: Path | None = None
    target: str | int | None = None
    columns: tuple[int, ...] | None = None
    rows: tuple[int, int] | None = None
    encoding: str | None = None
    scale: str = "none"
    validation: float = 0.0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """Prepared arrays: inputs X (n, features) and encoded targets Y (n, outputs)."""

    name: str
    task: Task
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    labels_train: np.ndarray | None
    labels_val: np.ndarray | None
    classes: tuple[str, ...] | None
    feature_names: tuple[str, ...]
    encoding: str
    #: Each row is the window of the k values before its target, consecutive rows one step
    #: apart (lorenz, logistic_map with all columns): predictions can be fed back as inputs.
    autoregressive: bool = False
    #: The input scaling fitted on the training part: scaled = (x - centre) / spread.
    x_centre: np.ndarray | None = None
    x_spread: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.X_val.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.Y_train.shape[1])

    def astype(self, dtype: np.dtype | type | str) -> Dataset:
        """A copy with X and Y in ``dtype`` (labels stay integers)."""
        return replace(
            self,
            X_train=np.ascontiguousarray(self.X_train, dtype=dtype),
            Y_train=np.ascontiguousarray(self.Y_train, dtype=dtype),
            X_val=np.ascontiguousarray(self.X_val, dtype=dtype),
            Y_val=np.ascontiguousarray(self.Y_val, dtype=dtype),
        )

    def describe(self) -> str:
        """``"iris (120 train, 30 val, 4 features, 3 classes)"``."""
        parts = [f"{self.n_train} train"]
        if self.n_val:
            parts.append(f"{self.n_val} val")
        parts.append(f"{self.n_features} features")
        if self.classes is not None:
            parts.append(f"{len(self.classes)} classes")
        return f"{self.name} ({', '.join(parts)})"


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: what ``tui-optim list datasets`` shows and the parser validates."""

    name: str
    task: Task
    summary: str
    options: tuple[HParam, ...] = ()
    time_series: bool = False


def _samples(default: int) -> HParam:
    return HParam("samples", default, "number of examples", "int", low=2, high=MAX_SAMPLES)


def _noise(default: float) -> HParam:
    return HParam("noise", default, "standard deviation of the added noise", low=0.0)


_WINDOW = HParam(
    "window", 8, "past values used to predict the next one", "int", low=1, high=MAX_WINDOW
)

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("iris", "classification", "150 iris flowers, 4 measurements, 3 species"),
        DatasetInfo("digits", "classification", "1797 handwritten digits, 8x8 pixels, 10 classes"),
        DatasetInfo("wine", "classification", "178 wines, 13 chemical measurements, 3 cultivars"),
        DatasetInfo(
            "breast_cancer", "classification", "569 tumours, 30 features, malignant or benign"
        ),
        DatasetInfo(
            "moons", "classification", "two interleaving half circles", (_samples(300), _noise(0.2))
        ),
        DatasetInfo(
            "circles",
            "classification",
            "a circle inside a ring",
            (
                _samples(300),
                _noise(0.1),
                HParam(
                    "factor",
                    0.5,
                    "inner radius / outer radius",
                    low=0.0,
                    high=1.0,
                    low_open=True,
                    high_open=True,
                ),
            ),
        ),
        DatasetInfo(
            "xor",
            "classification",
            "points in a square, class = sign(x) * sign(y) (TensorFlow Playground)",
            (_samples(300), _noise(0.0)),
        ),
        DatasetInfo(
            "spiral",
            "classification",
            "two interleaved spiral arms",
            (
                _samples(300),
                _noise(0.2),
                HParam("turns", 1.5, "turns of each arm", low=0.0, low_open=True, high=10.0),
            ),
        ),
        DatasetInfo(
            "blobs",
            "classification",
            "Gaussian clusters, one per class",
            (
                _samples(300),
                HParam("centers", 3, "number of clusters (classes)", "int", low=2, high=50),
                HParam("spread", 1.0, "cluster standard deviation", low=0.0, low_open=True),
            ),
        ),
        DatasetInfo(
            "sine",
            "regression",
            "y = sin(x) + noise, x uniform in [-pi, pi]",
            (_samples(200), _noise(0.05)),
        ),
        DatasetInfo(
            "lorenz",
            "regression",
            "the Lorenz system's x(t) (sigma 10, rho 28, beta 8/3, RK4): k past values -> next",
            (
                _samples(2000),
                _WINDOW,
                HParam(
                    "dt", 0.01, "integration step (time units)", low=0.0, low_open=True, high=0.1
                ),
            ),
            time_series=True,
        ),
        DatasetInfo(
            "logistic_map",
            "regression",
            "x <- r x (1 - x), chaotic for r near 4: k past values -> next",
            (_samples(1000), _WINDOW, HParam("r", 3.9, "growth rate", low=0.0, high=4.0)),
            time_series=True,
        ),
        DatasetInfo("csv", "classification", "a CSV file: path, target column (default last)"),
    )
}


def get_dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; an unknown name gets a suggestion."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(unknown("dataset", name, DATASETS)) from None


def check_options(info: DatasetInfo, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in and ranges checked; raises DataError naming the option."""
    options = {spec.name: spec.default for spec in info.options}
    allowed = [spec.name for spec in info.options]
    for key, value in given.items():
        spec = next((s for s in info.options if s.name == key), None)
        if spec is None:
            listing = ", ".join(allowed) if allowed else "none"
            raise DataError(
                f"data source {info.name!r} has no option {key!r}{suggest(key, allowed)}; "
                f"allowed: {listing}"
            )
        try:
            options[key] = spec.check(value, f"data.{info.name}")
        except HyperparameterError as error:
            raise DataError(str(error)) from None
    return options


# ------------------------------------------------------------------------------ raw sources
@dataclass(frozen=True)
class _Raw:
    """Features and targets before encoding: targets are class indices or values."""

    X: np.ndarray
    target: np.ndarray  # (n,) int64 class indices or float values
    task: Task
    classes: tuple[str, ...] | None
    feature_names: tuple[str, ...]
    time_series: bool = False


def _sklearn(name: str) -> _Raw:
    from sklearn import datasets

    loader = {
        "iris": datasets.load_iris,
        "digits": datasets.load_digits,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }[name]
    bunch = loader()
    names = tuple(str(n) for n in bunch.target_names)
    features = tuple(str(f) for f in getattr(bunch, "feature_names", ())) or tuple(
        f"x{i}" for i in range(bunch.data.shape[1])
    )
    return _Raw(
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.int64),
        "classification",
        names,
        features,
    )


def _two_d(name: str, options: Mapping[str, Any], seed: int) -> _Raw:
    from sklearn import datasets

    samples, rng = int(options["samples"]), np.random.default_rng(seed)
    if name == "moons":
        X, y = datasets.make_moons(samples, noise=options["noise"], random_state=seed)
    elif name == "circles":
        X, y = datasets.make_circles(
            samples, noise=options["noise"], factor=options["factor"], random_state=seed
        )
    elif name == "blobs":
        X, y = datasets.make_blobs(
            samples,
            n_features=2,
            centers=int(options["centers"]),
            cluster_std=options["spread"],
            random_state=seed,
        )
    elif name == "xor":
        X = rng.uniform(-1.0, 1.0, size=(samples, 2))
        y = (np.sign(X[:, 0]) * np.sign(X[:, 1]) > 0).astype(np.int64)
        X = X + rng.normal(0.0, options["noise"], size=X.shape)
    else:  # spiral: two arms, the second the first turned by pi
        y = np.arange(samples) % 2
        t = np.sqrt(rng.uniform(0.0, 1.0, size=samples)) * options["turns"] * 2 * np.pi
        angle = t + np.pi * y
        X = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (2 * np.pi)
        X = X + rng.normal(0.0, options["noise"] * 0.1, size=X.shape)
    classes = tuple(str(i) for i in range(int(np.max(y)) + 1))
    return _Raw(
        np.asarray(X, float), np.asarray(y, np.int64), "classification", classes, ("x", "y")
    )


def lorenz_series(
    samples: int,
    dt: float,
    start: tuple[float, float, float] = (1.0, 1.0, 1.0),
    burn_in: int = 1000,
) -> np.ndarray:
    """x(t) of the Lorenz system integrated with classical RK4 (fixed step ``dt``).

    ``burn_in`` steps are discarded so the series starts on the attractor.
    """
    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0

    def velocity(state: np.ndarray) -> np.ndarray:
        x, y, z = state
        return np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])

    state = np.array(start, dtype=np.float64)
    out = np.empty(samples)
    for i in range(burn_in + samples):
        k1 = velocity(state)
        k2 = velocity(state + 0.5 * dt * k1)
        k3 = velocity(state + 0.5 * dt * k2)
        k4 = velocity(state + dt * k3)
        state = state + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        if i >= burn_in:
            out[i - burn_in] = state[0]
    return out


def logistic_series(samples: int, r: float, start: float = 0.2, burn_in: int = 100) -> np.ndarray:
    """x_{n+1} = r x_n (1 - x_n), after ``burn_in`` iterations."""
    x = start
    out = np.empty(samples)
    for i in range(burn_in + samples):
        x = r * x * (1.0 - x)
        if i >= burn_in:
            out[i - burn_in] = x
    return out


def window(series: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``series[i:i+k] -> series[i+k]`` for every i (chronological order)."""
    if len(series) <= k:
        raise DataError(f"a window of {k} needs more than {k} samples, got {len(series)}")
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], k).copy()
    return X, series[k:].copy()


def _regression(name: str, options: Mapping[str, Any], seed: int) -> _Raw:
    samples = int(options["samples"])
    if name == "sine":
        rng = np.random.default_rng(seed)
        x = rng.uniform(-np.pi, np.pi, size=samples)
        y = np.sin(x) + rng.normal(0.0, options["noise"], size=samples)
        return _Raw(x[:, None], y, "regression", None, ("x",))
    k = int(options["window"])
    if name == "lorenz":
        series = lorenz_series(samples + k, float(options["dt"]))
    else:
        series = logistic_series(samples + k, float(options["r"]))
    X, y = window(series, k)
    names = tuple(f"x[t-{k - i}]" for i in range(k))
    return _Raw(X, y, "regression", None, names, time_series=True)


def _csv(spec: DataSpec) -> _Raw:
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
            value = float(cell)
            if not math.isfinite(value):
                raise DataError(f"{path}:{line}: column {names[column]!r} is {cell!r}")
            X[r, c] = value
    raw_target = [row[target_index].strip() for _, row in numbered]
    for (line, _), cell in zip(numbered, raw_target, strict=True):
        if not cell or cell.lower() in ("nan", "inf", "-inf"):
            raise DataError(f"{path}:{line}: target column {names[target_index]!r} is {cell!r}")
    feature_names = tuple(names[i] for i in features)
    numeric = all(_is_number(cell) for cell in raw_target)
    if numeric:
        values = np.array([float(cell) for cell in raw_target])
        distinct = np.unique(values)
        integer = bool(np.all(values == np.round(values)))
        if spec.encoding == "value" or not integer or len(distinct) > MAX_NUMERIC_CLASSES:
            return _Raw(X, values, "regression", None, feature_names)
        labels = np.searchsorted(distinct, values).astype(np.int64)
        classes = tuple(f"{v:g}" for v in distinct)
    else:
        classes = tuple(sorted(set(raw_target)))
        labels = np.array([classes.index(cell) for cell in raw_target], dtype=np.int64)
    return _Raw(X, labels, "classification", classes, feature_names)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _target_index(path: Path, target: str | int | None, names: list[str], width: int) -> int:
    if target is None:
        return width - 1
    if isinstance(target, int) and not isinstance(target, bool):
        if not -width <= target < width:
            raise DataError(f"{path}: data.target {target} is outside columns 0..{width - 1}")
        return target % width
    if target in names:
        return names.index(target)
    raise DataError(
        f"{path}: data.target {target!r} is not a column{suggest(str(target), names)}; "
        f"columns: {', '.join(names)}"
    )


# ------------------------------------------------------------------------------ preparation
def load_dataset(spec: DataSpec, seed: int) -> Dataset:
    """Load and prepare ``spec``'s data; raises :class:`DataError` (one line)."""
    info = DATASETS.get(spec.source)
    if info is None:
        raise DataError(unknown("data source", spec.source, DATASETS))
    options = check_options(info, spec.options)
    if spec.source == "csv":
        raw = _csv(spec)
    elif spec.source in ("iris", "digits", "wine", "breast_cancer"):
        raw = _sklearn(spec.source)
    elif info.task == "classification":
        raw = _two_d(spec.source, options, seed)
    else:
        raw = _regression(spec.source, options, seed)
    raw = _select(raw, spec)
    encoding, Y = _encode(raw, spec.encoding, spec.source)
    X_train, Y_train, X_val, Y_val, l_train, l_val = _split(
        raw, Y, spec.validation, seed, spec.source
    )
    X_train, X_val, centre, spread = _scale(X_train, X_val, spec.scale)
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


def _select(raw: _Raw, spec: DataSpec) -> _Raw:
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


def _encode(raw: _Raw, encoding: str | None, source: str) -> tuple[str, np.ndarray]:
    if encoding is not None and encoding not in ENCODINGS:
        raise DataError(
            f"data.encoding {encoding!r} is unknown{suggest(encoding, ENCODINGS)}; "
            f"allowed: {', '.join(ENCODINGS)}"
        )
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
    raw: _Raw, Y: np.ndarray, fraction: float, seed: int, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if not 0.0 <= fraction < 1.0:
        raise DataError(f"data.validation must be in [0, 1), got {fraction!r}")
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
    X_train: np.ndarray, X_val: np.ndarray, scale: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scaled train and validation inputs, with the centre and spread fitted on train."""
    if scale not in SCALINGS:
        raise DataError(
            f"data.scale {scale!r} is unknown{suggest(scale, SCALINGS)}; "
            f"allowed: {', '.join(SCALINGS)}"
        )
    if scale == "none":
        width = X_train.shape[1]
        return X_train, X_val, np.zeros(width), np.ones(width)
    if scale == "standard":
        centre, spread = X_train.mean(axis=0), X_train.std(axis=0)
    else:
        centre = X_train.min(axis=0)
        spread = X_train.max(axis=0) - centre
    spread = np.where(spread > 0, spread, 1.0)  # constant columns (digits' blank pixels)
    return (X_train - centre) / spread, (X_val - centre) / spread, centre, spread


# ------------------------------------------------------------------------------ batches
class BatchSchedule:
    """Which training rows each step of each epoch uses; the same for every racer.

    ``batch_size`` None (or >= n_train) is full batch, 1 is stochastic. The order of epoch
    ``e`` is a pure function of ``(seed, e)``, so a restart, a fork or another engine
    process sees exactly the same batches. The last batch of an epoch may be smaller.
    """

    def __init__(self, n_train: int, batch_size: int | None, shuffle: bool, seed: int):
        if n_train < 1:
            raise DataError("no training rows")
        self.n_train = n_train
        self.batch_size = None if batch_size is None or batch_size >= n_train else batch_size
        self.shuffle = shuffle
        self.seed = seed
        size = self.batch_size or n_train
        self.steps_per_epoch = -(-n_train // size)

    def epoch(self, epoch: int) -> list[np.ndarray | None]:
        """Index arrays for each step of ``epoch``; ``[None]`` means all rows in order."""
        if self.batch_size is None:
            return [None]  # a full batch's mean gradient does not depend on the order
        if not self.shuffle:
            order = np.arange(self.n_train)
        else:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n_train)
        size = self.batch_size or self.n_train
        return [order[i : i + size] for i in range(0, self.n_train, size)]
