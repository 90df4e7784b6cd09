"""Scenario files: TOML documents (stdlib ``tomllib``) that validate into frozen dataclasses.

Every key is declared once in :mod:`tui_optim.scenario.schema` (type, range, aliases,
default); this module reads the tables with those options, checks the rules between keys,
and builds the :class:`Scenario`. Everything a user can get wrong is one
:class:`ScenarioError` line naming the file, the line, the key, the bad value and what is
allowed. Scenario files are data: nothing in them is executed or unpickled; paths (csv data,
.npz weights) are relative to the scenario file.

The keys (``tui-optim new FILE`` writes the commented ``template.toml``)::

    title, description, seed, epochs | steps, target_loss, repeats, flavor ("torch"|"keras")
    rank_by, look_for
    [data]     source, path, target, columns, rows, encoding, scale, validation,
               batch_size (int or "full"), shuffle, and the source's options (samples, noise...)
    [model]    layers, hidden, output, loss, init (initializer name or .npz path), dtype
    [surface]  function, start            (instead of [data] and [model])
    [[racer]]  optimizer, flavor, name, start, schedule, colour, batch_size, hyperparameters...
    [grid]     lists whose cartesian product makes racers (rows x columns), shared values
    [sweep]    optimizer, lr, seeds, metric: learning-rate sweeps (see scenario/sweep.py)
    [[claim]]  racer, status, before, beats, near, within, overfits, overfits_before,
               horizon_at_most, at; for sweeps tuned_lr_between, tuned_lr_above,
               tuned_between, wider_than, diverges, verdict   (checked by the tests)

``flavor`` says whose update rules and defaults a racer follows: torch.optim's ("torch", the
default) or Keras 3's ("keras"); the top-level key sets it for every racer and grid cell.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.data import DATASETS, DataError, DataSpec, load_dataset
from tui_optim.engine.errors import UnknownNameError, suggest
from tui_optim.engine.optimizers import FLAVORS, HyperparameterError, Optimizer, get_optimizer
from tui_optim.scenario import budget
from tui_optim.scenario.schema import (
    CLAIM,
    DATA,
    GRID_EXCLUDED,
    MAX_HEADLESS_RACES,
    MAX_RACERS,
    MAX_RACES,
    MODEL,
    RACER,
    SURFACE,
    TOP,
    Context,
    FilePath,
    HyperParameter,
    Option,
    Place,
    ScenarioError,
    Values,
    read_table,
    read_text,
    read_value,
)
from tui_optim.scenario.sweep import BLOCK_RUNS, SweepSpec, parse_sweep

DEFAULT_SCENARIO = "quickstart"
#: A scenario file larger than this is refused before it is read (scenarios are short).
MAX_FILE_BYTES = 1_000_000
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
    "peaks_zoo_torch",
    "iris_grid",
    "iris_grid_20",
    "digits_grid",
    "digits_grid_300",
    "adaptive_lineup",
    "rosenbrock",
    "beale",
    "saddle",
)


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
    flavor: str = "torch"  # whose update rules and defaults: one of FLAVORS


@dataclass(frozen=True)
class GridSpec:
    """The axes a grid scenario was built from: rows x columns of the small-multiples view."""

    row_key: str  # e.g. "optimizer"
    row_values: tuple[Any, ...]
    column_key: str | None  # e.g. "lr"
    column_values: tuple[Any, ...]


@dataclass(frozen=True)
class Claim:
    """One ``[[claim]]`` (see ``schema.CLAIM`` for what each key says)."""

    racer: str
    status: str | None = None
    before: str | None = None
    beats: str | None = None
    near: tuple[float, float] | None = None
    within: float = 0.02
    overfits: bool | None = None
    overfits_before: str | None = None
    horizon_at_most: float | None = None
    #: The epoch (a surface race: the step) the claim is checked at; None: the end.
    at: int | None = None
    #: A sweep's claims about the optimizer ``racer`` (see ``schema.CLAIM``).
    tuned_lr_between: tuple[float, float] | None = None
    tuned_lr_above: str | None = None
    tuned_between: tuple[float, float] | None = None
    wider_than: str | None = None
    diverges: bool | None = None
    verdict: str | None = None


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
    #: Steps per second the app races at (inf: as fast as it goes; None: the app's default).
    #: Headless runs ignore it.
    pace: float | None = None
    flavor: str = "torch"  # the scenario's default flavor (racers may override it)
    #: A learning-rate sweep instead of racers (``racers`` is then empty).
    sweep: SweepSpec | None = None
    #: How the chart draws a racer's repeats: "std" (mean +- one standard deviation) or
    #: "iqr" (median and interquartile band: a sweep's tuned race).
    repeat_band: str = "std"
    #: A sweep's tuned race: each racer's probability of winning, by name (the
    #: leaderboard's P(win) column); None for any other race.
    p_win: Mapping[str, float] | None = None
    #: What the leaderboard ranks by (None: validation loss if there is a split, else loss).
    rank_by: str | None = None
    #: "What to look for": shown in the app.
    look_for: str = ""
    #: What the scenario claims about its race, checked by the tests on its headless run.
    claims: tuple[Claim, ...] = ()


def default_racer_name(optimizer: str, hparams: Mapping[str, Any], flavor: str = "torch") -> str:
    """``"adam lr=0.01"``: the optimizer and the hyperparameters that differ from the
    flavor's defaults."""
    defaults = get_optimizer(optimizer, flavor).defaults()
    parts = [optimizer]
    if "lr" in hparams:
        parts.append(f"lr={hparams['lr']:g}")
    for key, value in hparams.items():
        if key != "lr" and value != defaults.get(key):
            parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


# ------------------------------------------------------------------------------ locations
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*[.=]")


class _Lines:
    """The line of every key in the source text (tomllib reports no positions): the first
    line that sets ``key`` inside table ``table`` (the ``index``-th of an array of tables)."""

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

    def placer(self, table: str, index: int = 0) -> Callable[[str], Place]:
        """``place(key)`` for the keys of one table (``place("")``: the table itself)."""

        def place(key: str) -> Place:
            line = self.lines.get((table, index, key)) or self.lines.get((table, index, ""))
            if table in ("racer", "claim"):
                path = f"{table}[{index + 1}]" + (f".{key}" if key else "")
            else:
                path = ".".join(part for part in (table, key) if part)
            return Place(self.label, line, path)

        return place


# ------------------------------------------------------------------------------ parsing
def parse_scenario(
    text: str, source: Path | None = None, name: str = "", capped: bool = True
) -> Scenario:
    """Validate a TOML document into a :class:`Scenario` (no data is loaded here).

    ``capped``: enforce MAX_RACERS and MAX_RACES, the app's limits (a card and a line per
    racer); a headless run passes False and has no racer cap (only MAX_HEADLESS_RACES)."""
    label = str(source) if source is not None else (f"{name}.toml" if name else "<scenario>")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error).splitlines()[0]
        raise ScenarioError(f"invalid TOML: {message}", Place(label)) from None
    except RecursionError:
        raise ScenarioError(
            "invalid TOML: arrays or tables nested too deeply", Place(label)
        ) from None
    lines = _Lines(text, label)
    context = Context(source.parent if source is not None else Path.cwd())
    top = read_table(TOP, document, lines.placer(""), context)
    title = top["title"] if top["title"] is not None else (name or (source.stem if source else ""))
    epochs, steps = top["epochs"], top["steps"]
    if (epochs is None) == (steps is None):
        problem = "give either epochs or steps, not both" if epochs else "give epochs or steps"
        raise top.fail("steps" if epochs else "", problem)
    repeats = top["repeats"]
    surface = None
    data = model = None
    data_values: Values | None = None
    batch_size: int | None = None
    shuffle = True
    if top["surface"] is not None:
        for other in ("data", "model"):
            if top[other] is not None:
                raise ScenarioError(
                    "a [surface] scenario takes no [data] or [model]", lines.placer(other)("")
                )
        values = read_table(SURFACE, top["surface"], lines.placer("surface"), context)
        surface = SurfaceSpec(values["function"], values["start"])
    else:
        if top["data"] is None or top["model"] is None:
            missing = "data" if top["data"] is None else "model"
            raise top.fail("", f"missing [{missing}] (or use [surface] for a 2-D race)")
        data, data_values = _data(top["data"], lines, context)
        batch_size = data_values["batch_size"] or None  # 0 ("full") and None: full batch
        shuffle = data_values["shuffle"]
        model = _model(top["model"], lines, context)
    is_surface = surface is not None
    flavor = top["flavor"]
    dtype = model.dtype if model is not None else "float64"
    racers = [
        _racer(table, lines.placer("racer", index), context, is_surface, flavor, dtype)
        for index, table in enumerate(top["racer"])
    ]
    for index, racer in enumerate(racers):
        _check_full_batch(racer, batch_size, lines.placer("racer", index))
    if top["sweep"] is not None:
        sweep = parse_sweep(
            document,
            top,
            lines.placer("sweep"),
            context,
            validation=None if data is None else data.validation,
            batch_size=batch_size,
            dtype=dtype,
        )
        if data is not None and model is not None and data_values is not None:
            # A sweep steps its runs in blocks of at most BLOCK_RUNS: that is what is held.
            _check_budget(data, data_values, model, min(sweep.runs, BLOCK_RUNS), lines)
        return Scenario(
            title=title or "scenario",
            description=top["description"] or "",
            seed=top["seed"],
            epochs=epochs,
            steps=steps,
            target_loss=top["target_loss"],
            repeats=1,
            racers=(),
            data=data,
            batch_size=batch_size,
            shuffle=shuffle,
            model=model,
            surface=surface,
            source=source,
            name=name or (source.stem if source else ""),
            flavor=flavor,
            sweep=sweep,
            look_for=(top["look_for"] or "").strip(),
            claims=_claims(
                top["claim"], lines, context, [entry.name for entry in sweep.entries]
            ),
        )
    grid = None
    if top["grid"] is not None:
        grid, grid_racers = _grid(
            top["grid"], lines, context, is_surface, flavor, dtype, len(racers), repeats, capped
        )
        for racer in grid_racers:
            _check_full_batch(racer, batch_size, lines.placer("grid"))
        racers.extend(grid_racers)
    if not racers:
        raise top.fail("", "no racers: add [[racer]] tables or a [grid]")
    racer_limit, race_limit = _limits(capped)
    if len(racers) > racer_limit:
        raise top.fail("", f"{len(racers):,} racers; the limit is {racer_limit:,}")
    if len(racers) * repeats > race_limit:
        raise top.fail(
            "repeats",
            f"{len(racers):,} racers x {repeats} repeats; the limit is {race_limit:,}",
        )
    if data is not None and model is not None and data_values is not None:
        _check_budget(data, data_values, model, len(racers) * repeats, lines)
    racers = _unique_names(racers)
    return Scenario(
        title=title or "scenario",
        description=top["description"] or "",
        seed=top["seed"],
        epochs=epochs,
        steps=steps,
        target_loss=top["target_loss"],
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
        flavor=flavor,
        pace=top["pace"],
        rank_by=top["rank_by"],
        look_for=(top["look_for"] or "").strip(),
        claims=_claims(top["claim"], lines, context, [racer.name for racer in racers]),
    )


def _claims(
    tables: list[Any], lines: _Lines, context: Context, names: list[str]
) -> tuple[Claim, ...]:
    """The ``[[claim]]`` tables; the racers they name must be the scenario's."""
    claims = []
    for index, table in enumerate(tables):
        place = lines.placer("claim", index)
        if not isinstance(table, dict):
            raise ScenarioError("must be a table", place(""))
        values = read_table(CLAIM, table, place, context)
        for key in ("racer", "before", "beats", "overfits_before", "tuned_lr_above", "wider_than"):
            name = values[key]
            if name is not None and name not in names:
                allowed = ", ".join(names)
                raise values.fail(
                    key, f"unknown racer {name!r}{suggest(name, names)}; allowed: {allowed}"
                )
        claims.append(
            Claim(
                values["racer"],
                status=values["status"],
                before=values["before"],
                beats=values["beats"],
                near=values["near"],
                within=values["within"],
                overfits=values["overfits"],
                overfits_before=values["overfits_before"],
                horizon_at_most=values["horizon_at_most"],
                at=values["at"],
                tuned_lr_between=values["tuned_lr_between"],
                tuned_lr_above=values["tuned_lr_above"],
                tuned_between=values["tuned_between"],
                wider_than=values["wider_than"],
                diverges=values["diverges"],
                verdict=values["verdict"],
            )
        )
    return tuple(claims)


def _data(table: dict[str, Any], lines: _Lines, context: Context) -> tuple[DataSpec, Values]:
    place = lines.placer("data")
    source_option = DATA.option("source")
    if "source" not in table:
        raise ScenarioError(source_option.required or "missing", place("source"))
    source = read_value(source_option, table["source"], place("source"), context)
    info = DATASETS[source]
    values = read_table(DATA, table, place, context, extra=[spec.name for spec in info.options])
    options = {
        spec.name: read_value(
            Option(spec.name, HyperParameter(spec, f"data.{source}")),
            table[spec.name],
            place(spec.name),
            context,
        )
        for spec in info.options
        if spec.name in table
    }
    path = None
    if info.takes_path:
        if values["path"] is None:
            raise values.fail(
                "path", f"a {source} source needs a path (relative to the scenario file)"
            )
        path = read_value(Option("path", FilePath()), values["path"], place("path"), context)
    elif values["path"] is not None:
        raise values.fail("path", f"only a csv source takes a path; {source} is built in")
    spec = DataSpec(
        source=source,
        path=path,
        target=values["target"],
        columns=values["columns"],
        rows=values["rows"],
        encoding=values["encoding"],
        scale=values["scale"],
        validation=values["validation"],
        options=options,
    )
    return spec, values


def _model(table: dict[str, Any], lines: _Lines, context: Context) -> ModelSpec:
    from tui_optim.engine.losses import HeadError, make_head

    values = read_table(MODEL, table, lines.placer("model"), context)
    try:
        make_head(values["output"], values["loss"])
    except HeadError as error:
        raise values.fail("loss", str(error)) from None
    return ModelSpec(
        values["layers"],
        values["hidden"],
        values["output"],
        values["loss"],
        values["init"],
        values["dtype"],
    )


def _racer(
    table: Any,
    place: Callable[[str], Place],
    context: Context,
    is_surface: bool,
    default_flavor: str,
    dtype: str = "float64",
    grid_position: tuple[int, int] | None = None,
    flavor_axis: bool = False,
) -> RacerConfig:
    """One racer from its keys: a [[racer]] table, or one combination of a [grid] (then
    ``place`` points at the grid's keys and the name comes from the values; with a flavor
    axis the name ends with the flavor)."""
    if not isinstance(table, dict):
        raise ScenarioError("must be a table", place(""))
    option = RACER.option("optimizer")
    if "optimizer" not in table:
        raise ScenarioError(option.required or "missing", place("optimizer"))
    name = read_value(option, table["optimizer"], place("optimizer"), context)
    flavor = default_flavor
    if "flavor" in table:
        flavor = read_value(RACER.option("flavor"), table["flavor"], place("flavor"), context)
    cls = _optimizer_class(name, flavor, place("optimizer"))
    hparam_keys = cls.accepted_keys()
    values = read_table(RACER, table, place, context, extra=hparam_keys)
    given = {k: v for k, v in table.items() if k in hparam_keys}
    try:
        hparams = cls.validate(given)
    except HyperparameterError as error:
        raise ScenarioError(str(error), place(error.key or "")) from None
    _check_fits(cls, hparams, given, dtype, place)
    if values["start"] is not None and not is_surface:
        raise values.fail("start", "only racers on a [surface] have a start point")
    if values["batch_size"] is not None and is_surface:
        raise values.fail("batch_size", "a surface has no batches")
    if grid_position is not None:
        named = {k: hparams[k] for k in hparams if k == "lr" or k in given}
        name = default_racer_name(cls.name, named, flavor)
        if flavor_axis:
            name = f"{name} {flavor}"
    else:
        name = values["name"] or default_racer_name(cls.name, hparams, flavor)
    return RacerConfig(
        name=name,
        optimizer=cls.name,
        hparams=hparams,
        schedule=values["schedule"],
        start=values["start"],
        colour=values["colour"],
        grid_position=grid_position,
        batch_size=values["batch_size"],
        flavor=flavor,
    )


def _check_full_batch(
    racer: RacerConfig, batch_size: int | None, place: Callable[[str], Place]
) -> None:
    """Refuse mini-batches for a racer whose optimizer needs the full batch (L-BFGS, Rprop)."""
    size = batch_size if racer.batch_size is None else racer.batch_size
    cls = get_optimizer(racer.optimizer, racer.flavor)
    if size and cls.requires_full_batch(racer.hparams):
        key = "batch_size" if racer.batch_size else "optimizer"
        raise ScenarioError(
            f"{cls.name} needs the full batch, and this racer gets batches of {size}; set "
            'batch_size = "full" (in [data], or on the racer)',
            place(key),
        )


def _check_fits(
    cls: type[Optimizer],
    hparams: Mapping[str, Any],
    given: Mapping[str, Any],
    dtype: str,
    place: Callable[[str], Place],
) -> None:
    """The hyperparameters as the race holds them, in the model's dtype: in float32 1e39 is
    inf, and 1e-50 is 0, which a value that must be above 0 cannot be."""
    if dtype == "float64":
        return
    largest = float(np.finfo(dtype).max)
    for spec in cls.hparams:
        value = hparams[spec.name]
        if spec.kind != "float" or value == 0:
            continue
        with np.errstate(over="ignore", under="ignore"):
            cast = float(np.asarray(value, dtype=dtype))
        if math.isfinite(cast) and (cast != 0 or not spec.low_open or spec.low != 0):
            continue
        key = next(
            (k for k in given if k == spec.name or k in cls.spec(spec.name).aliases),
            next((k for k, pair in cls.pair_aliases.items() if spec.name in pair), spec.name),
        )
        if cast:
            problem = f"inf in {dtype}, the model's dtype (largest {largest:.3g}); use a smaller"
        else:
            problem = f"0 in {dtype}, the model's dtype, and must be above 0; use a larger"
        raise ScenarioError(
            f'{cls.name}.{spec.name} = {value:g} becomes {problem} value or dtype = "float64"',
            place(key),
        )


def _optimizer_class(name: str, flavor: str, place: Place) -> type[Optimizer]:
    """The class of ``name`` in ``flavor``, or an error naming what that flavor has."""
    try:
        return get_optimizer(name, flavor)
    except UnknownNameError as error:
        raise ScenarioError(str(error), place) from None


def _grid(
    table: dict[str, Any],
    lines: _Lines,
    context: Context,
    is_surface: bool,
    default_flavor: str,
    dtype: str,
    explicit: int,
    repeats: int,
    capped: bool = True,
) -> tuple[GridSpec, list[RacerConfig]]:
    place = lines.placer("grid")

    def fail(key: str, problem: str) -> ScenarioError:
        return ScenarioError(problem, place(key))

    if "optimizer" not in table:
        raise fail("optimizer", "a grid needs an optimizer (a name or a list of names)")
    for key in GRID_EXCLUDED:
        if key in table:
            raise fail(key, "a grid names and places its racers itself; use [[racer]] for that")
    lists = [(k, v) for k, v in table.items() if isinstance(v, list)]
    if not isinstance(table["optimizer"], list):
        # one optimizer: it is the single row, the list (e.g. lr) gives the columns
        lists.insert(0, ("optimizer", [table["optimizer"]]))
    shared = {k: v for k, v in table.items() if not isinstance(v, list) and k != "optimizer"}
    if len(lists) < 2 and lists[0][0] == "optimizer" and len(lists[0][1]) == 1:
        raise fail("", "a grid needs a list, e.g. lr = [0.1, 0.01]")
    if len(lists) > 2:
        raise fail(lists[2][0], "a grid has at most two lists (rows x columns)")
    for key, values in lists:
        if not values:
            raise fail(key, "empty grid: the list has no values")
    (row_key, row_values) = lists[0]
    column_key, column_values = lists[1] if len(lists) > 1 else (None, [None])
    # Sized before any racer is made: two lists of 1000 would be a million racers.
    total = explicit + len(row_values) * len(column_values)
    racer_limit, race_limit = _limits(capped)
    if total > racer_limit:
        raise fail("", f"{total:,} racers; the limit is {racer_limit:,}")
    if total * repeats > race_limit:
        raise fail("", f"{total:,} racers x {repeats} repeats; the limit is {race_limit:,}")
    racers = []
    for (i, row), (j, column) in itertools.product(enumerate(row_values), enumerate(column_values)):
        combination = dict(shared)
        combination[row_key] = row
        if column_key is not None:
            combination[column_key] = column
        racers.append(
            _racer(
                combination,
                place,
                context,
                is_surface,
                default_flavor,
                dtype,
                grid_position=(i, j),
                flavor_axis="flavor" in (row_key, column_key),
            )
        )
    grid = GridSpec(
        row_key,
        tuple(row_values),
        column_key,
        tuple(column_values) if column_key is not None else (),
    )
    return grid, racers


def _limits(capped: bool) -> tuple[int, int]:
    """The most racers, and racers x repeats: the app's limits (MAX_RACERS, MAX_RACES), or
    a headless run's ceiling (MAX_HEADLESS_RACES) when not ``capped``."""
    if capped:
        return MAX_RACERS, MAX_RACES
    return MAX_HEADLESS_RACES, MAX_HEADLESS_RACES


def _check_budget(
    data: DataSpec, data_values: Values, model: ModelSpec, racers: int, lines: _Lines
) -> None:
    """Refuse, before anything is allocated, a race beyond :data:`budget.MEMORY_BUDGET_BYTES`;
    the error is placed on the key that drives the larger part."""
    info = DATASETS[data.source]
    found = budget.estimate(info, data.options, data.path, model.layers, model.dtype, racers)
    problem = found.over_budget()
    if problem is None:
        return
    if found.data_dominates:
        given = [key for key in ("samples", "window") if key in data.options]
        raise data_values.fail(given[0] if given else "path" if data.path else "source", problem)
    raise ScenarioError(problem, lines.placer("model")("layers"))


def _unique_names(racers: list[RacerConfig]) -> list[RacerConfig]:
    seen: dict[str, int] = {}
    out = []
    for racer in racers:
        count = seen.get(racer.name, 0) + 1
        seen[racer.name] = count
        out.append(
            racer if count == 1 else dataclasses.replace(racer, name=f"{racer.name} ({count})")
        )
    return out


def with_overrides(
    scenario: Scenario,
    *,
    epochs: str | None,
    steps: str | None,
    seed: str | None,
    rank_by: str | None = None,
) -> Scenario:
    """The scenario with command-line ``--epochs``, ``--steps``, ``--seed`` or ``--rank-by``
    (their text): read by the same options as the file's keys, so the same limits and
    messages apply."""
    if epochs is not None and steps is not None:
        raise ScenarioError("--epochs and --steps: give one (the race is measured in one)")
    changes: dict[str, Any] = {}
    given = (("epochs", epochs), ("steps", steps), ("seed", seed), ("rank_by", rank_by))
    for key, text in given:
        if text is not None:
            changes[key] = read_text(TOP.option(key), text, f"--{key.replace('_', '-')}")
    if "epochs" in changes:
        changes["steps"] = None
    elif "steps" in changes:
        changes["epochs"] = None
    return dataclasses.replace(scenario, **changes)


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


def load_scenario(request: str | Path, check: bool = True, capped: bool = True) -> Scenario:
    """A built-in name or a path to a .toml file, parsed and (by default) deep-checked;
    ``capped`` as in :func:`parse_scenario`.

    Whatever the file holds (binary, huge, nested thousands deep), the only error is a
    one-line :class:`ScenarioError`: callers such as the app's open dialog rely on it.
    """
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
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                f"{path}: {size:,} bytes is not a scenario (the limit is {MAX_FILE_BYTES:,})"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read it ({error})") from None
    scenario = parse_scenario(text, path, name, capped=capped)
    if check:
        check_scenario(scenario)
    return scenario


def check_scenario(scenario: Scenario) -> str:
    """Load the data and build the model; a one-line summary, or ScenarioError."""
    label = str(scenario.source or scenario.name or "<scenario>")
    flavors = sorted({racer.flavor for racer in scenario.racers}, key=FLAVORS.index)
    flavor = "" if flavors == ["torch"] else f" ({' and '.join(flavors)} flavor)"
    length = f"{scenario.epochs} epochs" if scenario.epochs else f"{scenario.steps} steps"
    repeats = f" x {scenario.repeats} seeds" if scenario.repeats > 1 else ""
    racers = f"{len(scenario.racers)} racers{flavor}"
    if scenario.sweep is not None:
        sweep = scenario.sweep
        racers = (
            f"sweep of {len(sweep.entries)} optimizers x {len(sweep.lrs)} learning rates x "
            f"{sweep.seeds} seed{'s' if sweep.seeds > 1 else ''} = {sweep.runs:,} runs by "
            f"{sweep.metric}"
        )
    if scenario.surface is not None:
        return f"{scenario.title}: {racers}{repeats} on {scenario.surface.function}, {length}"
    assert scenario.data is not None and scenario.model is not None
    from tui_optim.engine.init import WeightsError, load_weights
    from tui_optim.engine.mlp import MLP, ModelError

    model = scenario.model
    try:
        dataset = load_dataset(scenario.data, scenario.seed)
        dataset.astype(model.dtype)  # values that overflow the model's dtype
    except DataError as error:
        raise ScenarioError(f"{label}: data: {error}") from None
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
    if (
        scenario.sweep is not None
        and scenario.sweep.metric == "val_accuracy"
        and dataset.task != "classification"
    ):
        raise ScenarioError(
            f"{label}: sweep.metric: val_accuracy needs classes, and {dataset.name}'s target "
            "is a continuous value; use val_loss"
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
    except (ModelError, WeightsError) as error:
        raise ScenarioError(f"{label}: model: {error}") from None
    batch = "full batch" if scenario.batch_size is None else f"batch {scenario.batch_size}"
    sizes = "-".join(str(n) for n in layers)
    return (
        f"{scenario.title}: {racers}{repeats}, MLP {sizes} {model.hidden}/"
        f"{model.output} {model.loss}, {dataset.describe()}, {batch}, {length}"
    )


def template() -> str:
    """A commented scenario with every key, for ``tui-optim new FILE``."""
    return (resources.files("tui_optim.scenario") / "template.toml").read_text(encoding="utf-8")
