"""scikit-learn's bundled datasets (shipped with the package: no download)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tui_optim.engine.data.spec import DatasetInfo, DataSpec, RawData


def _bundled(name: str, rows: int, columns: int, summary: str) -> DatasetInfo:
    def load(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        names = tuple(str(n) for n in bunch.target_names)
        features = tuple(str(f) for f in getattr(bunch, "feature_names", ())) or tuple(
            f"x{i}" for i in range(bunch.data.shape[1])
        )
        return RawData(
            np.asarray(bunch.data, dtype=np.float64),
            np.asarray(bunch.target, dtype=np.int64),
            "classification",
            names,
            features,
        )

    return DatasetInfo(
        name, "classification", summary, load, shape=lambda options: (rows, columns + 1)
    )


ENTRIES = (
    _bundled("iris", 150, 4, "150 iris flowers, 4 measurements, 3 species"),
    _bundled("digits", 1797, 64, "1797 handwritten digits, 8x8 pixels, 10 classes"),
    _bundled("wine", 178, 13, "178 wines, 13 chemical measurements, 3 cultivars"),
    _bundled("breast_cancer", 569, 30, "569 tumours, 30 features, malignant or benign"),
)
