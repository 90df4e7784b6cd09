"""Scenario files: TOML documents (stdlib ``tomllib``) that validate into frozen dataclasses.

Everything a user can get wrong is reported as one :class:`ScenarioError` line naming the
file, the line, the key, the bad value and what is allowed, with a close-match suggestion.
Scenario files are data: nothing in them is executed or unpickled; paths (csv data, .npz
weights) are relative to the scenario file.

The keys (``tui-optim new FILE`` writes a commented template)::

    title, description, seed, epochs | steps, target_loss, repeats
    [data]     source, path, target, columns, rows, encoding, scale, validation,
               batch_size (int or "full"), shuffle, and the source's options (samples, noise...)
    [model]    layers, hidden, output, loss, init (initializer name or .npz path), dtype
    [surface]  function, start            (instead of [data] and [model])
    [[racer]]  optimizer, name, start, schedule, colour, batch_size, hyperparameters...
    [grid]     lists whose cartesian product makes racers (rows x columns), shared values
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tui_optim.engine.data import DATASETS, DataError, DataSpec, check_options, load_dataset
from tui_optim.engine.errors import UnknownNameError, suggest
from tui_optim.engine.optimizers import HyperparameterError, get_optimizer

DEFAULT_SCENARIO = "quickstart"
MAX_EPOCHS = 1_000_000
MAX_STEPS = 100_000_000
MAX_REPEATS = 100
MAX_RACERS = 64
MAX_RACES = 256  # racers x repeats
#: Built-ins in the order the open dialog and `tui-optim list` show them.
DISPLAY_ORDER = (
    "quickstart",
    "scratch_adam",
    "batch_modes",
    "chaotic_series",
    "iris_131",
    "peaks_learning_rates",
    "peaks_local_minima",
    "peaks_zoo",
    "iris_grid",
    "iris_grid_20",
    "digits_grid",
    "digits_grid_300",
    "adaptive_lineup",
    "rosenbrock",
    "beale",
    "saddle",
)


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
    schedule: Mapping[str, Any] | str | None = None  # "cosine:total_steps=400" or a table
    start: tuple[float, float] | None = None  # surfaces only: overrides SurfaceSpec.start
    colour: str | None = None  # None: the race assigns one from its palette
    grid_position: tuple[int, int] | None = None  # (row, column) for grid scenarios
    batch_size: int | None = None  # None: the scenario's; 0: full batch


@dataclass(frozen=True)
class GridSpec:
    """The axes a grid scenario was built from: rows x columns of the small-multiples view."""

    row_key: str  # e.g. "optimizer"
    row_values: tuple[Any, ...]
    column_key: str | None  # e.g. "lr"
    column_values: tuple[Any, ...]


@dataclass(frozen=True)
class Claim:
    """One ``[[claim]]``: ``racer`` ends with ``status``, reaches the target ``before``
    another racer, or ends with a lower training loss than the racer it ``beats``."""

    racer: str
    status: str | None = None
    before: str | None = None
    beats: str | None = None


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
    source: Path | None = None  # the file it came from
    name: str = ""  # built-in name or file stem
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: What the leaderboard ranks by (None: validation loss if there is a split, else loss).
    rank_by: str | None = None
    #: "What to look for": shown in the app.
    look_for: str = ""
    #: What the scenario claims about its race, checked by the tests on its headless run.
    claims: tuple[Claim, ...] = ()

    @property
    def is_surface(self) -> bool:
        return self.surface is not None


def default_racer_name(optimizer: str, hparams: Mapping[str, Any]) -> str:
    """``"adam lr=0.01"``: the optimizer and the hyperparameters that differ from defaults."""
    defaults = get_optimizer(optimizer).defaults()
    parts = [optimizer]
    if "lr" in hparams:
        parts.append(f"lr={hparams['lr']:g}")
    for key, value in hparams.items():
        if key != "lr" and value != defaults.get(key):
            parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


# ------------------------------------------------------------------------------ locations
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")


class _Where:
    """Finds the line of a key in the source text (tomllib reports no positions)."""

    def __init__(self, text: str, label: str):
        self.label = label
        self.lines: dict[tuple[str, int, str], int] = {}
        table, index = "", 0
        counters: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                table = header.group(2).strip().strip("\"'")
                if header.group(1) == "[[":
                    index = counters.get(table, -1) + 1
                    counters[table] = index
                else:
                    index = 0
                self.lines.setdefault((table, index, ""), number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault((table, index, key.group(1).strip("\"'")), number)

    def error(self, table: str, key: str, problem: str, index: int = 0) -> ScenarioError:
        """``file:line: table.key: problem`` as a ScenarioError."""
        line = self.lines.get((table, index, key)) or self.lines.get((table, index, ""))
        place = f"{self.label}:{line}" if line else self.label
        if table == "racer":
            path = f"racer[{index + 1}]" + (f".{key}" if key else "")
        else:
            path = ".".join(part for part in (table, key) if part)
        prefix = f"{path}: " if path else ""
        return ScenarioError(f"{place}: {prefix}{problem}")


def _unknown_keys(
    where: _Where, table: str, given: Mapping[str, Any], allowed: list[str], index: int = 0
) -> None:
    for key in given:
        if key not in allowed:
            raise where.error(
                table,
                key,
                f"unknown key {key!r}{suggest(key, allowed)}; allowed: {', '.join(allowed)}",
                index,
            )


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Reader:
    """Typed access to one table, raising located one-line errors."""

    def __init__(self, where: _Where, table: str, values: Mapping[str, Any], index: int = 0):
        self.where, self.table, self.values, self.index = where, table, values, index

    def fail(self, key: str, problem: str) -> ScenarioError:
        return self.where.error(self.table, key, problem, self.index)

    def integer(
        self, key: str, default: int | None, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = self.values.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.fail(key, f"must be an integer, got {value!r}")
        if low is not None and value < low:
            raise self.fail(key, f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise self.fail(key, f"must be at most {high:,} (the limit), got {value:,}")
        return value

    def number(
        self,
        key: str,
        default: float | None,
        low: float | None = None,
        high: float | None = None,
        high_open: bool = False,
    ) -> float | None:
        value = self.values.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {_type_name(value)} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}")
        if low is not None and value < low:
            raise self.fail(key, f"must be at least {low:g}, got {value:g}")
        if high is not None and (value > high or (high_open and value == high)):
            bound = f"below {high:g}" if high_open else f"at most {high:g}"
            raise self.fail(key, f"must be {bound}, got {value:g}")
        return value

    def text(self, key: str, default: str | None, choices: Any = None) -> str | None:
        value = self.values.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_type_name(value)} {value!r}")
        if choices is not None and value not in choices:
            names = list(choices)
            raise self.fail(
                key, f"unknown value {value!r}{suggest(value, names)}; allowed: {', '.join(names)}"
            )
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def point(self, key: str) -> tuple[float, float] | None:
        value = self.values.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or not all(math.isfinite(v) for v in value)
        ):
            raise self.fail(key, f"must be a point [x, y] of two numbers, got {value!r}")
        return (float(value[0]), float(value[1]))

    def batch_size(self, key: str = "batch_size") -> int | str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if value == "full":
            return "full"
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f'must be a positive integer or "full", got {value!r}')
        if value > 10_000_000:
            raise self.fail(key, f"must be at most 10,000,000 (the limit), got {value:,}")
        return value


# ------------------------------------------------------------------------------ parsing
TOP_KEYS = [
    "title",
    "description",
    "seed",
    "epochs",
    "steps",
    "target_loss",
    "repeats",
    "data",
    "model",
    "surface",
    "racer",
    "grid",
    "rank_by",
    "look_for",
    "claim",
]
RANK_BY = ("val_loss", "val_accuracy", "loss", "time_to_target")
CLAIM_KEYS = ["racer", "status", "before", "beats"]
CLAIM_STATUSES = (
    "running",
    "converged",
    "stalled",
    "oscillating",
    "diverging",
    "diverged",
    "error",
    "finished",
)
DATA_KEYS = [
    "source",
    "path",
    "target",
    "columns",
    "rows",
    "encoding",
    "scale",
    "validation",
    "batch_size",
    "shuffle",
]
MODEL_KEYS = ["layers", "hidden", "output", "loss", "init", "dtype"]
SURFACE_KEYS = ["function", "start"]
RACER_KEYS = ["optimizer", "name", "start", "schedule", "colour", "color", "batch_size"]


def parse_scenario(text: str, source: Path | None = None, name: str = "") -> Scenario:
    """Validate a TOML document into a :class:`Scenario` (no data is loaded here)."""
    label = str(source) if source is not None else (f"{name}.toml" if name else "<scenario>")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error).splitlines()[0]
        raise ScenarioError(f"{label}: invalid TOML: {message}") from None
    where = _Where(text, label)
    base = source.parent if source is not None else Path.cwd()
    _unknown_keys(where, "", document, TOP_KEYS)
    top = _Reader(where, "", document)
    title = top.text("title", name or (source.stem if source else "scenario")) or "scenario"
    description = top.text("description", "") or ""
    seed = top.integer("seed", 0, low=0, high=2**32 - 1) or 0
    epochs = top.integer("epochs", None, low=1, high=MAX_EPOCHS)
    steps = top.integer("steps", None, low=1, high=MAX_STEPS)
    if (epochs is None) == (steps is None):
        problem = "give either epochs or steps, not both" if epochs else "give epochs or steps"
        raise where.error("", "steps" if epochs else "", problem)
    target = top.number("target_loss", None)
    repeats = top.integer("repeats", 1, low=1, high=MAX_REPEATS) or 1
    for key in ("data", "model", "surface", "grid"):
        if key in document and not isinstance(document[key], dict):
            raise where.error("", key, f"must be a table [{key}], got {_type_name(document[key])}")
    surface = None
    data = model = None
    batch_size: int | None = None
    shuffle = True
    if "surface" in document:
        for other in ("data", "model"):
            if other in document:
                raise where.error(other, "", "a [surface] scenario takes no [data] or [model]")
        surface = _surface(where, document["surface"])
    else:
        if "data" not in document or "model" not in document:
            missing = "data" if "data" not in document else "model"
            raise where.error("", "", f"missing [{missing}] (or use [surface] for a 2-D race)")
        data, batch_size, shuffle = _data(where, document["data"], base)
        model = _model(where, document["model"], base)
    racers: list[RacerConfig] = []
    raw_racers = document.get("racer", [])
    if not isinstance(raw_racers, list):
        raise where.error("", "racer", "racers are [[racer]] tables")
    for index, table in enumerate(raw_racers):
        racers.append(_racer(where, table, index, surface is not None))
    grid = None
    if "grid" in document:
        grid, grid_racers = _grid(where, document["grid"], surface is not None)
        racers.extend(grid_racers)
    if not racers:
        raise where.error("", "", "no racers: add [[racer]] tables or a [grid]")
    if len(racers) > MAX_RACERS:
        raise where.error("", "", f"{len(racers)} racers; the limit is {MAX_RACERS}")
    if len(racers) * repeats > MAX_RACES:
        raise where.error(
            "", "repeats", f"{len(racers)} racers x {repeats} repeats; the limit is {MAX_RACES}"
        )
    racers = _unique_names(racers)
    rank_by, look_for, claims = _verdict_keys(where, document, racers)
    return Scenario(
        title=title,
        description=description,
        seed=seed,
        epochs=epochs,
        steps=steps,
        target_loss=target,
        repeats=repeats,
        racers=tuple(racers),
        data=data,
        batch_size=batch_size,
        shuffle=shuffle,
        model=model,
        surface=surface,
        grid=grid,
        source=source,
        name=name or (source.stem if source else ""),
        rank_by=rank_by,
        look_for=look_for,
        claims=claims,
    )


def _verdict_keys(
    where: _Where, document: Mapping[str, Any], racers: list[RacerConfig]
) -> tuple[str | None, str, tuple[Claim, ...]]:
    """``rank_by``, ``look_for`` and the ``[[claim]]`` tables."""
    top = _Reader(where, "", document)
    rank_by = top.text("rank_by", None, choices=RANK_BY)
    look_for = (top.text("look_for", "") or "").strip()
    raw = document.get("claim", [])
    if not isinstance(raw, list):
        raise where.error("", "claim", "claims are [[claim]] tables")
    names = [racer.name for racer in racers]
    claims = []
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise where.error("claim", "", "claims are [[claim]] tables", index)
        _unknown_keys(where, "claim", table, CLAIM_KEYS, index)
        read = _Reader(where, "claim", table, index)
        racer = read.text("racer", None, choices=names)
        if racer is None:
            raise read.fail("racer", f"missing; allowed: {', '.join(names)}")
        claims.append(
            Claim(
                racer,
                status=read.text("status", None, choices=CLAIM_STATUSES),
                before=read.text("before", None, choices=names),
                beats=read.text("beats", None, choices=names),
            )
        )
    return rank_by, look_for, tuple(claims)


def _surface(where: _Where, table: dict[str, Any]) -> SurfaceSpec:
    from tui_optim.engine.surfaces import SURFACES

    _unknown_keys(where, "surface", table, SURFACE_KEYS)
    read = _Reader(where, "surface", table)
    function = read.text("function", None, SURFACES)
    if function is None:
        raise read.fail("function", f"missing; allowed: {', '.join(SURFACES)}")
    return SurfaceSpec(function, read.point("start"))


def _data(where: _Where, table: dict[str, Any], base: Path) -> tuple[DataSpec, int | None, bool]:
    read = _Reader(where, "data", table)
    source = read.text("source", None, DATASETS)
    if source is None:
        raise read.fail("source", f"missing; allowed: {', '.join(DATASETS)}")
    info = DATASETS[source]
    option_names = [spec.name for spec in info.options]
    _unknown_keys(where, "data", table, DATA_KEYS + option_names)
    options = {k: v for k, v in table.items() if k in option_names}
    try:
        check_options(info, options)
    except DataError as error:
        key = next(iter(options), "source")
        for candidate in options:
            if repr(candidate) in str(error) or f".{candidate}" in str(error):
                key = candidate
        raise read.fail(key, str(error)) from None
    path = None
    if source == "csv":
        raw_path = read.text("path", None)
        if raw_path is None:
            raise read.fail("path", "a csv source needs a path (relative to the scenario file)")
        path = (base / raw_path).resolve()
        if not path.is_file():
            raise read.fail("path", f"file not found: {path}")
    elif "path" in table:
        raise read.fail("path", f"only a csv source takes a path; {source} is built in")
    target = table.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, str | int)):
        raise read.fail("target", f"must be a column name or index, got {target!r}")
    columns = table.get("columns")
    if columns is not None:
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in columns)
        ):
            raise read.fail("columns", f"must be a list of column indices (>= 0), got {columns!r}")
        columns = tuple(columns)
    rows = table.get("rows")
    if rows is not None:
        if (
            not isinstance(rows, list)
            or len(rows) != 2
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in rows)
            or not 0 <= rows[0] < rows[1]
        ):
            raise read.fail("rows", f"must be [start, stop) with 0 <= start < stop, got {rows!r}")
        rows = (rows[0], rows[1])
    from tui_optim.engine.data import ENCODINGS, SCALINGS

    encoding = read.text("encoding", None, ENCODINGS)
    scale = read.text("scale", "none", SCALINGS) or "none"
    validation = read.number("validation", 0.0, low=0.0, high=1.0, high_open=True) or 0.0
    batch = read.batch_size()
    shuffle = read.boolean("shuffle", True)
    spec = DataSpec(
        source=source,
        path=path,
        target=target,
        columns=columns,
        rows=rows,
        encoding=encoding,
        scale=scale,
        validation=validation,
        options=options,
    )
    return spec, None if batch in (None, "full") else int(batch), shuffle


def _model(where: _Where, table: dict[str, Any], base: Path) -> ModelSpec:
    from tui_optim.engine.activations import get_activation
    from tui_optim.engine.init import INITIALIZERS
    from tui_optim.engine.losses import LOSSES, OUTPUTS, HeadError, make_head
    from tui_optim.engine.mlp import MAX_PARAMS, MAX_UNITS

    _unknown_keys(where, "model", table, MODEL_KEYS)
    read = _Reader(where, "model", table)
    layers = table.get("layers")
    if (
        not isinstance(layers, list)
        or len(layers) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in layers)
    ):
        raise read.fail("layers", f"must be a list of at least two unit counts, got {layers!r}")
    for size in layers:
        if not 1 <= size <= MAX_UNITS:
            raise read.fail(
                "layers", f"every size must be in [1, {MAX_UNITS}] (the limit), got {size:,}"
            )
    params = sum(a * b + b for a, b in itertools.pairwise(layers))
    if params > MAX_PARAMS:
        raise read.fail("layers", f"{params:,} parameters; the limit is {MAX_PARAMS:,}")
    hidden = read.text("hidden", "sigmoid") or "sigmoid"
    try:
        get_activation(hidden)
    except UnknownNameError as error:
        raise read.fail("hidden", str(error)) from None
    output = read.text("output", "linear", OUTPUTS) or "linear"
    loss = read.text("loss", "mse", LOSSES) or "mse"
    try:
        make_head(output, loss)
    except HeadError as error:
        raise read.fail("loss", str(error)) from None
    init_text = read.text("init", "glorot_uniform") or "glorot_uniform"
    init: str | Path = init_text
    if init_text.endswith(".npz"):
        init = (base / init_text).resolve()
        if not init.is_file():
            raise read.fail("init", f"weights file not found: {init}")
    elif init_text not in INITIALIZERS:
        names = [*INITIALIZERS, "a path to an .npz file"]
        raise read.fail(
            "init",
            f"unknown initializer {init_text!r}"
            f"{suggest(init_text, list(INITIALIZERS))}; allowed: "
            f"{', '.join(names)}",
        )
    dtype = read.text("dtype", "float64", ("float64", "float32")) or "float64"
    return ModelSpec(tuple(layers), hidden, output, loss, init, dtype)


def _hparams(read: _Reader, optimizer: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The optimizer's validated hyperparameters, errors located at the offending key."""
    cls = get_optimizer(optimizer)
    try:
        return cls.validate(dict(given))
    except HyperparameterError as error:
        message = str(error)
        key = next((k for k in given if f".{k} " in message or f"{k!r}" in message), "")
        if not key:
            key = next((k for k in given if k in message), "optimizer")
        raise read.fail(key, message) from None


def _racer(where: _Where, table: Any, index: int, is_surface: bool) -> RacerConfig:
    read = _Reader(where, "racer", table if isinstance(table, dict) else {}, index)
    if not isinstance(table, dict):
        raise read.fail("", "must be a table")
    name = read.text("optimizer", None)
    if name is None:
        raise read.fail("optimizer", "missing: every racer needs an optimizer")
    try:
        cls = get_optimizer(name)
    except UnknownNameError as error:
        raise read.fail("optimizer", str(error)) from None
    hparam_names = sorted(
        {h.name for h in cls.hparams}
        | {a for h in cls.hparams for a in h.aliases}
        | set(cls.pair_aliases)
    )
    _unknown_keys(where, "racer", table, RACER_KEYS + hparam_names, index)
    given = {k: v for k, v in table.items() if k not in RACER_KEYS}
    hparams = _hparams(read, cls.name, given)
    schedule = table.get("schedule")
    if schedule is not None:
        from tui_optim.engine.schedules import ScheduleError, make_schedule

        if not isinstance(schedule, str | dict):
            raise read.fail("schedule", f"must be a string or a table, got {schedule!r}")
        try:
            make_schedule(schedule)
        except ScheduleError as error:
            raise read.fail("schedule", str(error)) from None
    start = read.point("start")
    if start is not None and not is_surface:
        raise read.fail("start", "only racers on a [surface] have a start point")
    colour = read.text("colour", None) or read.text("color", None)
    if colour is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise read.fail("colour", f'must be a hex colour like "#1f77b4", got {colour!r}')
    batch = read.batch_size()
    if batch is not None and is_surface:
        raise read.fail("batch_size", "a surface has no batches")
    return RacerConfig(
        name=read.text("name", None) or default_racer_name(cls.name, hparams),
        optimizer=cls.name,
        hparams=hparams,
        schedule=schedule,
        start=start,
        colour=colour,
        batch_size=0 if batch == "full" else batch,  # type: ignore[arg-type]
    )


def _grid(
    where: _Where, table: dict[str, Any], is_surface: bool
) -> tuple[GridSpec, list[RacerConfig]]:
    read = _Reader(where, "grid", table)
    if "optimizer" not in table:
        raise read.fail("optimizer", "a grid needs an optimizer (a name or a list of names)")
    lists = [(k, v) for k, v in table.items() if isinstance(v, list)]
    if not isinstance(table["optimizer"], list):
        # one optimizer: it is the single row, the list (e.g. lr) gives the columns
        lists.insert(0, ("optimizer", [table["optimizer"]]))
    shared = {k: v for k, v in table.items() if not isinstance(v, list) and k != "optimizer"}
    if len(lists) < 2 and lists[0][0] == "optimizer" and len(lists[0][1]) == 1:
        raise read.fail("", "a grid needs a list, e.g. lr = [0.1, 0.01]")
    if len(lists) > 2:
        raise read.fail(lists[2][0], "a grid has at most two lists (rows x columns)")
    for key, values in lists:
        if not values:
            raise read.fail(key, "empty grid: the list has no values")
    (row_key, row_values) = lists[0]
    column_key, column_values = lists[1] if len(lists) > 1 else (None, [None])
    racers = []
    for (i, row), (j, column) in itertools.product(enumerate(row_values), enumerate(column_values)):
        values = dict(shared)
        values[row_key] = row
        if column_key is not None:
            values[column_key] = column
        optimizer = values.pop("optimizer")
        if not isinstance(optimizer, str):
            raise read.fail("optimizer", f"must be an optimizer name, got {optimizer!r}")
        try:
            cls = get_optimizer(optimizer)
        except UnknownNameError as error:
            raise read.fail("optimizer", str(error)) from None
        for key in ("name", "start", "colour", "color"):
            values.pop(key, None)
        schedule = values.pop("schedule", None)
        batch = values.pop("batch_size", None)
        hparams = _hparams(read, cls.name, values)
        racers.append(
            RacerConfig(
                name=default_racer_name(
                    cls.name, {k: hparams[k] for k in hparams if k == "lr" or k in values}
                ),
                optimizer=cls.name,
                hparams=hparams,
                schedule=schedule,
                grid_position=(i, j),
                batch_size=0 if batch == "full" else batch,
            )
        )
    grid = GridSpec(
        row_key,
        tuple(row_values),
        column_key,
        tuple(column_values) if column_key is not None else (),
    )
    return grid, racers


def _unique_names(racers: list[RacerConfig]) -> list[RacerConfig]:
    from dataclasses import replace

    seen: dict[str, int] = {}
    out = []
    for racer in racers:
        count = seen.get(racer.name, 0) + 1
        seen[racer.name] = count
        out.append(racer if count == 1 else replace(racer, name=f"{racer.name} ({count})"))
    return out


# ------------------------------------------------------------------------------ loading
def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario name -> its packaged file, in display order."""
    folder = resources.files("tui_optim") / "scenarios"
    found = {
        Path(str(entry)).stem: Path(str(entry))
        for entry in folder.iterdir()
        if str(entry).endswith(".toml")
    }
    ordered = {name: found[name] for name in DISPLAY_ORDER if name in found}
    ordered.update({name: found[name] for name in sorted(found) if name not in ordered})
    return ordered


def load_scenario(request: str | Path, check: bool = True) -> Scenario:
    """A built-in name or a path to a .toml file, parsed and (by default) deep-checked."""
    builtins = builtin_scenarios()
    if isinstance(request, str) and request in builtins:
        path, name = builtins[request], request
    else:
        path = Path(request).expanduser()
        name = path.stem
        if not path.is_file():
            hint = suggest(str(request), list(builtins)) if isinstance(request, str) else ""
            raise ScenarioError(
                f"{request}: no such scenario file or built-in name{hint}; built-ins: "
                f"{', '.join(builtins)}"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read it ({error})") from None
    scenario = parse_scenario(text, path, name)
    if check:
        check_scenario(scenario)
    return scenario


def check_scenario(scenario: Scenario) -> str:
    """Load the data and build the model; a one-line summary, or ScenarioError."""
    label = str(scenario.source or scenario.name or "<scenario>")
    racers = len(scenario.racers)
    length = f"{scenario.epochs} epochs" if scenario.epochs else f"{scenario.steps} steps"
    repeats = f" x {scenario.repeats} seeds" if scenario.repeats > 1 else ""
    if scenario.surface is not None:
        return (
            f"{scenario.title}: {racers} racers{repeats} on {scenario.surface.function}, {length}"
        )
    assert scenario.data is not None and scenario.model is not None
    from tui_optim.engine.init import WeightsError, load_weights
    from tui_optim.engine.mlp import MLP, ModelError

    try:
        dataset = load_dataset(scenario.data, scenario.seed)
    except DataError as error:
        raise ScenarioError(f"{label}: data: {error}") from None
    model = scenario.model
    layers = model.layers
    if layers[0] != dataset.n_features:
        raise ScenarioError(
            f"{label}: model.layers: the input size is {layers[0]} but {dataset.name} gives "
            f"{dataset.n_features} features; make layers start with {dataset.n_features}"
        )
    if layers[-1] != dataset.n_outputs:
        raise ScenarioError(
            f"{label}: model.layers: the output size is {layers[-1]} but the "
            f"{dataset.encoding}-encoded target has {dataset.n_outputs} columns; make layers "
            f"end with {dataset.n_outputs}"
        )
    if model.output == "softmax" and dataset.task != "classification":
        raise ScenarioError(
            f"{label}: model.output: softmax needs classes, and "
            f"{dataset.name}'s target is a continuous value; use linear"
        )
    try:
        mlp = MLP(layers, model.hidden, model.output, model.loss, model.dtype)
        if isinstance(model.init, Path):
            load_weights(model.init, mlp)
    except (ModelError, WeightsError, ValueError) as error:
        raise ScenarioError(f"{label}: model: {error}") from None
    batch = "full batch" if scenario.batch_size is None else f"batch {scenario.batch_size}"
    sizes = "-".join(str(n) for n in layers)
    return (
        f"{scenario.title}: {racers} racers{repeats}, MLP {sizes} {model.hidden}/"
        f"{model.output} {model.loss}, {dataset.describe()}, {batch}, {length}"
    )


def template() -> str:
    """A commented scenario with every key, for ``tui-optim new FILE``."""
    return TEMPLATE


TEMPLATE = """\
# A tui-optim scenario. Check it with `tui-optim check FILE`, race it with `tui-optim FILE`.
# Every racer starts from the same weights and sees the same batches (from `seed`).

title = "My race"
description = "What this race shows."
seed = 42
epochs = 200            # or: steps = 1000
# target_loss = 0.1     # time-to-target and "converged" are measured against it
# repeats = 3           # race every racer over 3 seeds, report mean and spread

[data]
source = "iris"         # iris digits wine breast_cancer moons circles xor spiral blobs
                        # sine lorenz logistic_map csv   (`tui-optim list datasets`)
# path = "my_data.csv"  # csv only, relative to this file
# target = "label"      # csv: target column name or index (default: the last column)
# columns = [2]         # feature columns to keep (0-based)
# rows = [0, 99]        # [start, stop) of the rows
# encoding = "onehot"   # onehot binary index value (default: from the target)
scale = "standard"      # none standard minmax (fitted on the training part)
validation = 0.2        # fraction held out for validation (0 = none)
batch_size = 32         # or "full"
shuffle = true
# samples = 300         # synthetic sources: size, noise and their own options

[model]
layers = [4, 8, 3]      # input first; must match the data's features and outputs
hidden = "selu"         # linear sigmoid tanh relu leaky_relu elu selu swish softplus
output = "softmax"      # linear sigmoid softmax
loss = "cross_entropy"  # mse mae huber binary_cross_entropy cross_entropy
init = "lecun_normal"   # glorot_uniform glorot_normal he_uniform he_normal lecun_uniform
                        # lecun_normal, or a path to an .npz with W1, b1, W2, b2, ...
dtype = "float64"       # or float32

# For a 2-D loss surface use this instead of [data] and [model]:
# [surface]
# function = "peaks"    # peaks rosenbrock beale himmelblau rastrigin saddle ill_conditioned
# start = [-0.35, -0.67]

[[racer]]
optimizer = "sgd"       # `tui-optim list optimizers` shows each one's hyperparameters
lr = 0.01

[[racer]]
optimizer = "sgd"
name = "momentum 0.9"
lr = 0.01
momentum = 0.9

[[racer]]
optimizer = "adam"
learning_rate = 0.001   # Keras names are accepted too (learning_rate, beta_1, epsilon...)
# schedule = "cosine:total_steps=800"   # constant step exponential cosine warmup

# A grid races every combination (rows x columns in the grid view):
# [grid]
# optimizer = ["sgd", "adam", "rmsprop"]
# lr = [0.1, 0.01, 0.001]
"""
