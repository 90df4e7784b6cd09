"""TensorFlow-Playground-like 2-D classification: moons, circles, xor, spiral, blobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tui_optim.engine.data.spec import MAX_SAMPLES, DatasetInfo, DataSpec, RawData
from tui_optim.engine.optimizers.base import HParam


def samples_option(default: int) -> HParam:
    return HParam("samples", default, "number of examples", "int", low=2, high=MAX_SAMPLES)


def noise_option(default: float) -> HParam:
    return HParam("noise", default, "standard deviation of the added noise", low=0.0)


def _points(X: np.ndarray, y: np.ndarray) -> RawData:
    classes = tuple(str(i) for i in range(int(np.max(y)) + 1))
    return RawData(
        np.asarray(X, float), np.asarray(y, np.int64), "classification", classes, ("x", "y")
    )


def _moons(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    from sklearn import datasets

    X, y = datasets.make_moons(int(options["samples"]), noise=options["noise"], random_state=seed)
    return _points(X, y)


def _circles(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    from sklearn import datasets

    X, y = datasets.make_circles(
        int(options["samples"]),
        noise=options["noise"],
        factor=options["factor"],
        random_state=seed,
    )
    return _points(X, y)


def _blobs(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    from sklearn import datasets

    X, y = datasets.make_blobs(
        int(options["samples"]),
        n_features=2,
        centers=int(options["centers"]),
        cluster_std=options["spread"],
        random_state=seed,
    )
    return _points(X, y)


def _xor(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    samples, rng = int(options["samples"]), np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(samples, 2))
    y = (np.sign(X[:, 0]) * np.sign(X[:, 1]) > 0).astype(np.int64)
    X = X + rng.normal(0.0, options["noise"], size=X.shape)
    return _points(X, y)


def _spiral(spec: DataSpec, options: Mapping[str, Any], seed: int) -> RawData:
    """Two arms, the second the first turned by pi."""
    samples, rng = int(options["samples"]), np.random.default_rng(seed)
    y = np.arange(samples) % 2
    t = np.sqrt(rng.uniform(0.0, 1.0, size=samples)) * options["turns"] * 2 * np.pi
    angle = t + np.pi * y
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (2 * np.pi)
    X = X + rng.normal(0.0, options["noise"] * 0.1, size=X.shape)
    return _points(X, y)


def _plane(options: Mapping[str, Any]) -> tuple[int, int]:
    return int(options["samples"]), 3


def _entry(name: str, summary: str, load: Any, *options: HParam) -> DatasetInfo:
    return DatasetInfo(name, "classification", summary, load, options, shape=_plane)


ENTRIES = (
    _entry(
        "moons", "two interleaving half circles", _moons, samples_option(300), noise_option(0.2)
    ),
    _entry(
        "circles",
        "a circle inside a ring",
        _circles,
        samples_option(300),
        noise_option(0.1),
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
    _entry(
        "xor",
        "points in a square, class = sign(x) * sign(y) (TensorFlow Playground)",
        _xor,
        samples_option(300),
        noise_option(0.0),
    ),
    _entry(
        "spiral",
        "two interleaved spiral arms",
        _spiral,
        samples_option(300),
        noise_option(0.2),
        HParam("turns", 1.5, "turns of each arm", low=0.0, low_open=True, high=10.0),
    ),
    _entry(
        "blobs",
        "Gaussian clusters, one per class",
        _blobs,
        samples_option(300),
        HParam("centers", 3, "number of clusters (classes)", "int", low=2, high=50),
        HParam("spread", 1.0, "cluster standard deviation", low=0.0, low_open=True),
    ),
)
