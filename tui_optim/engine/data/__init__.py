"""Datasets, their preparation, and the batch schedule every racer shares.

A registry of sources (``registry.DATASETS``), each entry owning its loader and options:
scikit-learn's bundled data (``bundled``: iris, digits, wine, breast_cancer; no download),
TensorFlow-Playground-like 2-D classification (``synthetic``: moons, circles, xor, spiral,
blobs), regression and time series (``series``: sine, and the chaotic lorenz and
logistic_map windowed into "k past values -> next value"), and CSV files (``csv_file``).
``prepare`` turns a source's raw arrays into a :class:`Dataset`; ``batches`` holds the
:class:`BatchSchedule`.
"""

from tui_optim.engine.data.batches import BatchSchedule
from tui_optim.engine.data.csv_file import MAX_NUMERIC_CLASSES
from tui_optim.engine.data.prepare import load_dataset
from tui_optim.engine.data.registry import DATASETS
from tui_optim.engine.data.series import logistic_series, lorenz_series, window
from tui_optim.engine.data.spec import (
    ENCODINGS,
    MAX_SAMPLES,
    MAX_WINDOW,
    SCALINGS,
    DataError,
    Dataset,
    DatasetInfo,
    DataSpec,
    RawData,
    Task,
)

__all__ = [
    "DATASETS",
    "ENCODINGS",
    "MAX_NUMERIC_CLASSES",
    "MAX_SAMPLES",
    "MAX_WINDOW",
    "SCALINGS",
    "BatchSchedule",
    "DataError",
    "DataSpec",
    "Dataset",
    "DatasetInfo",
    "RawData",
    "Task",
    "load_dataset",
    "logistic_series",
    "lorenz_series",
    "window",
]
