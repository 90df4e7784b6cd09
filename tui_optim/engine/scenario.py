"""Scenario files: TOML documents that validate into frozen dataclasses.

(The parser is filled in by the scenario work; the dataclasses below are the contract the
race engine builds from.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_optim.engine.data import DataSpec


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming file, line and field."""


@dataclass(frozen=True)
class ModelSpec:
    layers: tuple[int, ...]
    hidden: str = "sigmoid"
    output: str = "linear"
    loss: str = "mse"
    init: str | Path = "glorot_uniform"  # initializer name, or a resolved path to an .npz
    dtype: str = "float64"


@dataclass(frozen=True)
class SurfaceSpec:
    function: str
    start: tuple[float, float] | None = None  # None: the surface's default start


@dataclass(frozen=True)
class RacerConfig:
    """One racer as the scenario describes it, hyperparameters already validated."""

    name: str
    optimizer: str
    hparams: Mapping[str, float | int | bool]  # canonical names, defaults filled in
    schedule: Mapping[str, Any] | None = None  # {"name": "cosine", ...}; None = constant
    start: tuple[float, float] | None = None  # surfaces only: overrides SurfaceSpec.start
    colour: str | None = None  # None: the race assigns one from its palette
    grid_position: tuple[int, int] | None = None  # (row, column) for grid scenarios


@dataclass(frozen=True)
class GridSpec:
    """The axes a grid scenario was built from: rows x columns of the small-multiples view."""

    row_key: str  # e.g. "optimizer"
    row_values: tuple[Any, ...]
    column_key: str | None  # e.g. "lr"
    column_values: tuple[Any, ...]


@dataclass(frozen=True)
class Scenario:
    title: str
    description: str
    seed: int
    epochs: int | None
    steps: int | None
    target_loss: float | None
    repeats: int
    racers: tuple[RacerConfig, ...]
    data: DataSpec | None = None
    batch_size: int | None = None  # None: full batch
    shuffle: bool = True
    model: ModelSpec | None = None
    surface: SurfaceSpec | None = None
    grid: GridSpec | None = None
    source: Path | None = None  # the file it came from (None for built-ins given as text)
    name: str = ""  # built-in name or file stem
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_surface(self) -> bool:
        return self.surface is not None
