"""What a data source is given (DataSpec), what it returns (RawData) and what the race
trains on (Dataset); the registry entry type (DatasetInfo) every source declares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tui_optim.engine.optimizers.base import HParam

Task = Literal["classification", "regression"]
ENCODINGS = ("onehot", "binary", "index", "value")
SCALINGS = ("none", "standard", "minmax")
MAX_SAMPLES = 1_000_000
MAX_WINDOW = 1000
#: Bytes of one value as the sources produce them (float64).
VALUE_BYTES = 8


class DataError(ValueError):
    """Data that cannot be used; the message is one line naming source, field and value."""


@dataclass(frozen=True)
class DataSpec:
    """The scenario's ``[data]`` table, validated by the scenario's option schema.

    ``options`` holds the source's own options (``samples``, ``noise`` ...); the ones not
    given take the registry entry's defaults.
    """

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
class RawData:
    """Features and targets before encoding: targets are class indices or values."""

    X: np.ndarray
    target: np.ndarray  # (n,) int64 class indices or float values
    task: Task
    classes: tuple[str, ...] | None
    feature_names: tuple[str, ...]
    time_series: bool = False


#: A source's loader: the spec, its options with defaults filled in, and the seed.
Loader = Callable[[DataSpec, Mapping[str, Any], int], RawData]
#: How many (rows, columns) of float64 values a source makes for these options, before
#: loading anything; None when only the file itself can tell (then ``path`` is sized).
Shape = Callable[[Mapping[str, Any]], tuple[int, int] | None]


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: what ``tui-optim list datasets`` shows, the options the scenario
    schema validates, and the loader that makes the raw arrays.

    Adding a source is one entry in a source module's ``ENTRIES`` (see ``registry.py``).
    """

    name: str
    task: Task
    summary: str
    load: Loader
    options: tuple[HParam, ...] = ()
    time_series: bool = False
    #: The source reads the scenario's ``path`` (a file relative to the scenario).
    takes_path: bool = False
    shape: Shape | None = None
    #: Seconds to make one row when the source loops in Python (an ODE integrator), as
    #: measured on a 2-core machine; 0 for vectorised sources.
    seconds_per_row: float = 0.0

    def with_defaults(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The options ``given`` (already validated) with defaults for the rest."""
        return {spec.name: given.get(spec.name, spec.default) for spec in self.options}

    def estimated_seconds(self, given: Mapping[str, Any]) -> float:
        """Time to make the raw rows, from the options alone (0 when it is negligible)."""
        shape = self.shape(self.with_defaults(given)) if self.shape is not None else None
        return 0.0 if shape is None else shape[0] * self.seconds_per_row

    def estimated_bytes(self, given: Mapping[str, Any], path: Path | None) -> int:
        """Memory the prepared data needs at its peak, from the options alone: the raw
        values and the copies preparation makes (selection, split, scaling), about four.
        A file source is sized from the file: parsing text takes about 40 bytes a byte
        (Python strings and lists per cell)."""
        shape = self.shape(self.with_defaults(given)) if self.shape is not None else None
        if shape is not None:
            rows, columns = shape
            return 4 * rows * columns * VALUE_BYTES
        if path is not None:
            try:
                return 40 * path.stat().st_size
            except OSError:
                return 0
        return 0


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
        """A copy with X and Y in ``dtype`` (labels stay integers).

        Raises :class:`DataError` naming the column when a value does not fit ``dtype``
        (1e39 becomes inf in float32): the check is on the values the race will use.
        """
        with np.errstate(over="ignore"):
            cast = replace(
                self,
                X_train=np.ascontiguousarray(self.X_train, dtype=dtype),
                Y_train=np.ascontiguousarray(self.Y_train, dtype=dtype),
                X_val=np.ascontiguousarray(self.X_val, dtype=dtype),
                Y_val=np.ascontiguousarray(self.Y_val, dtype=dtype),
            )
        for part, names in (("X", self.feature_names), ("Y", None)):
            for array in (getattr(cast, f"{part}_train"), getattr(cast, f"{part}_val")):
                finite = np.isfinite(array)
                if not finite.all():
                    column = int(np.argwhere(~finite)[0][1])
                    what = f"column {names[column]!r}" if names else "the target"
                    kind = np.dtype(dtype).name
                    raise DataError(
                        f"{self.name}: {what} has values beyond {kind}'s range "
                        f"(largest {float(np.finfo(kind).max):.3g}); rescale them"
                        + (' or use dtype = "float64"' if kind != "float64" else "")
                    )
        return cast

    def describe(self) -> str:
        """``"iris (120 train, 30 val, 4 features, 3 classes)"``."""
        parts = [f"{self.n_train} train"]
        if self.n_val:
            parts.append(f"{self.n_val} val")
        parts.append(f"{self.n_features} features")
        if self.classes is not None:
            parts.append(f"{len(self.classes)} classes")
        return f"{self.name} ({', '.join(parts)})"
