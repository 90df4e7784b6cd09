"""The option schema: every key a scenario file or a command-line flag can set.

An :class:`Option` is one key: its name, its kind (type and allowed values), its aliases,
its default and a line of help. A :class:`Table` is the options of one TOML table.
:func:`read_table` reads a table's values: unknown keys refused (with a suggestion), aliases
resolved, every value converted by its kind once, defaults filled in. Each value keeps the
:class:`Place` it was read from (file, line, key path), and a bad one becomes a
:class:`ScenarioError` carrying that place: the one line the user sees,
``race.toml:17: racer[2].betas: adam.beta2 must be a number in [0, 1), got 1.5``. Command
line flags (``--epochs``) go through the same options (:func:`read_text`), so they have the
same limits and messages, with the flag as their place.

Adding a key
------------
One declaration in its table below. A top-level ``palette`` with two allowed values::

    Option("palette", Choice(("tab10", "mono")), default="tab10",
           help="the racers' colours")

in ``TOP`` (``flavor`` and ``rank_by`` are such keys). The parser reads every declared key
of a table into a :class:`Values` (a dict of converted values with their places), so the
value arrives as ``top["palette"]``: give :class:`~tui_optim.scenario.parser.Scenario` a
field and pass it in ``parse_scenario``. A racer key goes in ``RACER``; a ``[grid]`` then
takes it too, as a shared value or as an axis, and checks it the same way. A cross-key rule
(this needs that) is checked in the parser with ``values.fail(key, problem)``, which places
the error on that key's line. A key with a command-line flag reads the flag's text with
``read_text(TOP.option(key), text, "--key")`` (see ``parser.with_overrides``). A new kind of
value is a small class with ``convert(value, context)`` that returns the converted value or
raises :class:`Invalid` with the problem. A new table (``[sweep]``) is a :class:`Table` of
options, declared in ``TOP`` as ``Option("sweep", Subtable())`` and read with
``read_table(SWEEP, top["sweep"], lines.placer("sweep"), context)`` in the parser.
``tui-optim new`` writes ``template.toml``: add the key there too, commented (a test checks
that every declared key is in it).
"""

from __future__ import annotations

import itertools
import math
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tui_optim.engine.errors import UnknownNameError, suggest

MAX_EPOCHS = 1_000_000
MAX_STEPS = 100_000_000
MAX_REPEATS = 100
MAX_RACERS = 64
MAX_RACES = 256  # racers x repeats
MAX_SEED = 2**32 - 1  # NumPy and scikit-learn seeds
MAX_BATCH = 10_000_000
#: A run without the app (``tui-optim run``, a sweep's runs) has no racer cap: only this
#: ceiling, so that lists of thousands are refused before anything is built.
MAX_HEADLESS_RACES = 100_000
#: What a sweep ranks its runs by; every one but val_accuracy is lower-is-better.
SWEEP_METRICS = ("final_loss", "best_loss", "val_loss", "val_accuracy", "steps_to_target")
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
MAX_LR_POINTS = 1000
#: Runs (optimizers x learning rates x seeds) one sweep may hold.
MAX_SWEEP_RUNS = 100_000


# ------------------------------------------------------------------------------ errors
@dataclass(frozen=True)
class Place:
    """Where a value was read: the file (or "" for a command-line flag), its line when
    known, and the key's path (``racer[2].betas``, ``grid.lr``, ``--epochs``)."""

    file: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return ": ".join(part for part in (where, self.path) if part)


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming file, line and field.

    ``place`` is where the bad value was read (None for a problem of the whole file) and
    ``problem`` the message without it.
    """

    def __init__(self, problem: str, place: Place | None = None):
        self.problem = problem
        self.place = place
        where = str(place) if place is not None else ""
        super().__init__(f"{where}: {problem}" if where else problem)

    @property
    def key(self) -> str:
        """The key path the error is about ("" when it is about the whole file)."""
        return self.place.path if self.place is not None else ""


class Invalid(ValueError):
    """What is wrong with a value, before it is given its place."""


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = (
    3,
    60,
    60,
    6,
    4,
)


def show(value: Any) -> str:
    """``repr(value)`` cut to a short line (deep or long values stay one readable line)."""
    return _SHORT.repr(value)


def type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# ------------------------------------------------------------------------------ kinds
@dataclass(frozen=True)
class Context:
    """What converting a value may need beyond the value: the folder relative paths start
    from (the scenario file's)."""

    base: Path = field(default_factory=Path.cwd)


class Kind(Protocol):
    """A type of value: ``convert`` returns the value to use or raises :class:`Invalid`."""

    def convert(self, value: Any, context: Context) -> Any: ...


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Integer:
    """A whole number in ``[low, high]``; 3.0 is accepted as 3."""

    low: int | None = None
    high: int | None = None

    def convert(self, value: Any, context: Context) -> int:
        shown = f"{value:g}" if isinstance(value, float) else None  # 1e+30, not 31 digits
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be an integer, got {show(value)}")
        if self.low is not None and value < self.low:
            raise Invalid(f"must be at least {self.low}, got {shown or value}")
        if self.high is not None and value > self.high:
            raise Invalid(f"must be at most {self.high:,} (the limit), got {shown or f'{value:,}'}")
        return value


@dataclass(frozen=True)
class Number:
    """A finite number in ``[low, high]`` (``high_open``: below high)."""

    low: float | None = None
    high: float | None = None
    high_open: bool = False

    def convert(self, value: Any, context: Context) -> float:
        if not _is_number(value):
            raise Invalid(f"must be a number, got {type_name(value)} {show(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise Invalid(f"must be a finite number, got {number!r}")
        if self.low is not None and number < self.low:
            raise Invalid(f"must be at least {self.low:g}, got {number:g}")
        high = self.high
        if high is not None and (number > high or (self.high_open and number == high)):
            bound = f"below {high:g}" if self.high_open else f"at most {high:g}"
            raise Invalid(f"must be {bound}, got {number:g}")
        return number


#: The largest pace a scenario may ask for, in steps per second (beyond it: "max").
MAX_PACE = 1_000_000.0


@dataclass(frozen=True)
class Pace:
    """Steps per second in the app: a number above 0, or "max" (returned as inf)."""

    def convert(self, value: Any, context: Context) -> float:
        if value == "max":
            return math.inf
        if not _is_number(value):
            raise Invalid(f'must be a number of steps per second or "max", got {show(value)}')
        number = Number(high=MAX_PACE).convert(value, context)
        if number <= 0:
            raise Invalid(f'must be above 0 steps per second (or "max"), got {number:g}')
        return number


@dataclass(frozen=True)
class Text:
    """Any string."""

    def convert(self, value: Any, context: Context) -> str:
        if not isinstance(value, str):
            raise Invalid(f"must be a string, got {type_name(value)} {show(value)}")
        return value


@dataclass(frozen=True)
class Choice:
    """One of ``names`` (a collection, or a function giving one: registries load lazily)."""

    names: Iterable[str] | Callable[[], Iterable[str]]
    what: str = "value"

    def allowed(self) -> list[str]:
        return list(self.names() if callable(self.names) else self.names)

    def convert(self, value: Any, context: Context) -> str:
        text = Text().convert(value, context)
        names = self.allowed()
        if text not in names:
            raise Invalid(
                f"unknown {self.what} {show(text)}{suggest(text, names)}; "
                f"allowed: {', '.join(names)}"
            )
        return text


@dataclass(frozen=True)
class Registered:
    """A name a registry looks up (forgiving case or aliases); its UnknownNameError, with
    the suggestion and the allowed names, is the message."""

    lookup: Callable[[str], Any]

    def convert(self, value: Any, context: Context) -> str:
        text = Text().convert(value, context)
        try:
            self.lookup(text)
        except UnknownNameError as error:
            raise Invalid(str(error)) from None
        return text


@dataclass(frozen=True)
class Flag:
    def convert(self, value: Any, context: Context) -> bool:
        if not isinstance(value, bool):
            raise Invalid(f"must be true or false, got {show(value)}")
        return value


@dataclass(frozen=True)
class Point:
    """``[x, y]``, two finite numbers."""

    def convert(self, value: Any, context: Context) -> tuple[float, float]:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(_is_number(v) and math.isfinite(v) for v in value)
        ):
            raise Invalid(f"must be a point [x, y] of two numbers, got {show(value)}")
        return (float(value[0]), float(value[1]))


@dataclass(frozen=True)
class BatchSize:
    """A positive number of rows, or "full" (returned as 0)."""

    def convert(self, value: Any, context: Context) -> int:
        if value == "full":
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(f'must be a positive integer or "full", got {show(value)}')
        if value > MAX_BATCH:
            raise Invalid(f"must be at most {MAX_BATCH:,} (the limit), got {value:,}")
        return value


@dataclass(frozen=True)
class Indices:
    """A non-empty list of column indices (>= 0)."""

    def convert(self, value: Any, context: Context) -> tuple[int, ...]:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in value)
        ):
            raise Invalid(f"must be a list of column indices (>= 0), got {show(value)}")
        return tuple(value)


@dataclass(frozen=True)
class RowRange:
    """``[start, stop)`` with ``0 <= start < stop``."""

    def convert(self, value: Any, context: Context) -> tuple[int, int]:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in value)
            or not 0 <= value[0] < value[1]
        ):
            raise Invalid(f"must be [start, stop) with 0 <= start < stop, got {show(value)}")
        return (value[0], value[1])


@dataclass(frozen=True)
class Column:
    """A column name or index."""

    def convert(self, value: Any, context: Context) -> str | int:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Invalid(f"must be a column name or index, got {show(value)}")
        return value


@dataclass(frozen=True)
class FilePath:
    """A file relative to the scenario's folder that must exist; the resolved path."""

    what: str = "file"

    def convert(self, value: Any, context: Context) -> Path:
        path = (context.base / Text().convert(value, context)).resolve()
        if not path.is_file():
            raise Invalid(f"{self.what} not found: {path}")
        return path


@dataclass(frozen=True)
class Layers:
    """Unit counts, input first: at least two, each in [1, MAX_UNITS], at most MAX_PARAMS
    parameters in all."""

    def convert(self, value: Any, context: Context) -> tuple[int, ...]:
        from tui_optim.engine.mlp import MAX_PARAMS, MAX_UNITS

        if (
            not isinstance(value, list)
            or len(value) < 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        ):
            raise Invalid(f"must be a list of at least two unit counts, got {show(value)}")
        for size in value:
            if not 1 <= size <= MAX_UNITS:
                raise Invalid(f"every size must be in [1, {MAX_UNITS}] (the limit), got {size:,}")
        params = parameter_count(value)
        if params > MAX_PARAMS:
            raise Invalid(f"{params:,} parameters; the limit is {MAX_PARAMS:,}")
        return tuple(value)


def parameter_count(layers: Sequence[int]) -> int:
    """Weights and biases of an MLP with these unit counts."""
    return sum(a * b + b for a, b in itertools.pairwise(layers))


@dataclass(frozen=True)
class Initializer:
    """An initializer name, or a path to an ``.npz`` of weights (resolved, must exist)."""

    def convert(self, value: Any, context: Context) -> str | Path:
        from tui_optim.engine.init import INITIALIZERS

        text = Text().convert(value, context)
        if text.endswith(".npz"):
            return FilePath("weights file").convert(text, context)
        if text not in INITIALIZERS:
            names = [*INITIALIZERS, "a path to an .npz file"]
            raise Invalid(
                f"unknown initializer {show(text)}{suggest(text, list(INITIALIZERS))}; "
                f"allowed: {', '.join(names)}"
            )
        return text


@dataclass(frozen=True)
class Colour:
    def convert(self, value: Any, context: Context) -> str:
        text = Text().convert(value, context)
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
            raise Invalid(f'must be a hex colour like "#1f77b4", got {show(text)}')
        return text


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``"cosine:total_steps=400"`` or a table."""

    def convert(self, value: Any, context: Context) -> str | dict[str, Any]:
        from tui_optim.engine.schedules import ScheduleError, make_schedule

        if not isinstance(value, str | dict):
            raise Invalid(f"must be a string or a table, got {show(value)}")
        try:
            make_schedule(value)
        except ScheduleError as error:
            raise Invalid(str(error)) from None
        return value


@dataclass(frozen=True)
class HyperParameter:
    """A value checked by an engine ``HParam`` (a data source's ``samples``, ``noise``...)."""

    spec: Any  # tui_optim.engine.optimizers.base.HParam
    owner: str

    def convert(self, value: Any, context: Context) -> Any:
        from tui_optim.engine.optimizers.base import HyperparameterError

        try:
            return self.spec.check(value, self.owner)
        except HyperparameterError as error:
            raise Invalid(str(error)) from None


@dataclass(frozen=True)
class Subtable:
    """A ``[table]``; its keys are read with their own :class:`Table`."""

    def convert(self, value: Any, context: Context) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(f"must be a table, got {type_name(value)}")
        return value


@dataclass(frozen=True)
class Subtables:
    """``[[racer]]`` (or ``[[claim]]``...) tables: a list of tables."""

    table: str = "racer"

    def convert(self, value: Any, context: Context) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid(f"{self.table}s are [[{self.table}]] tables")
        return value


@dataclass(frozen=True)
class LearningRates:
    """A sweep's learning rates: ``{ from, to, points }`` (log-spaced, both ends exact) or a
    non-empty list of positive numbers; an increasing tuple."""

    def convert(self, value: Any, context: Context) -> tuple[float, ...]:
        from tui_optim.scenario.sweep import log_spaced

        if isinstance(value, dict):
            unknown = [key for key in value if key not in ("from", "to", "points")]
            if unknown:
                raise Invalid(
                    f"unknown key {show(unknown[0])}{suggest(unknown[0], ['from', 'to', 'points'])}"
                    "; allowed: from, to, points"
                )
            bounds = []
            for key in ("from", "to"):
                if key not in value:
                    raise Invalid(f"{key} is missing; give from, to and points")
                try:
                    bounds.append(Number().convert(value[key], context))
                except Invalid as error:
                    raise Invalid(f"{key} {error}") from None
            start, stop = bounds
            if start <= 0:
                raise Invalid(f"from must be above 0 (a log scale), got {start:g}")
            if stop <= start:
                raise Invalid(f"to must be above from ({start:g}), got {stop:g}")
            points = value.get("points")
            if isinstance(points, bool) or not isinstance(points, int):
                raise Invalid(f"points must be an integer, got {show(points)}")
            if not 2 <= points <= MAX_LR_POINTS:
                raise Invalid(f"points must be in [2, {MAX_LR_POINTS}], got {points:,}")
            return log_spaced(start, stop, points)
        if not isinstance(value, list) or not value:
            raise Invalid(f"must be {{ from, to, points }} or a list of numbers, got {show(value)}")
        if len(value) > MAX_LR_POINTS:
            raise Invalid(f"at most {MAX_LR_POINTS} learning rates, got {len(value):,}")
        rates = []
        for item in value:
            if not _is_number(item):
                raise Invalid(f"every learning rate must be a number, got {show(item)}")
            if not (math.isfinite(item) and item > 0):
                raise Invalid(f"every learning rate must be above 0 and finite, got {item}")
            rates.append(float(item))
        if len(set(rates)) != len(rates):
            raise Invalid("a learning rate is listed twice")
        return tuple(sorted(rates))


@dataclass(frozen=True)
class SweepEntries:
    """A sweep's optimizers: a name, a table (``optimizer``, ``name``, ``flavor`` and
    hyperparameters, read with :data:`SWEEP_ENTRY`), or a non-empty list of those."""

    def convert(self, value: Any, context: Context) -> list[str | dict[str, Any]]:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise Invalid("the list is empty; name at least one optimizer")
        for item in items:
            if not isinstance(item, str | dict):
                raise Invalid(f"each item is an optimizer name or a table, got {show(item)}")
        return items


# ------------------------------------------------------------------------------ options
@dataclass(frozen=True)
class Option:
    """One key: its kind, default, aliases (other accepted spellings) and help.

    ``required`` is the message when the key is missing (None: optional, then ``default``).
    """

    key: str
    kind: Kind
    default: Any = None
    help: str = ""
    aliases: tuple[str, ...] = ()
    required: str | None = None


@dataclass(frozen=True)
class Table:
    """The options of one TOML table (``name`` "" is the top level)."""

    name: str
    options: tuple[Option, ...]

    def option(self, key: str) -> Option:
        for option in self.options:
            if key == option.key or key in option.aliases:
                return option
        raise KeyError(key)

    def keys(self) -> list[str]:
        """Every accepted spelling, in declaration order."""
        return [name for o in self.options for name in (o.key, *o.aliases)]


class Values(dict[str, Any]):
    """A table's converted values by key, and where each was read."""

    def __init__(self, place: Callable[[str], Place]):
        super().__init__()
        self.place = place

    def fail(self, key: str, problem: str) -> ScenarioError:
        """``problem`` as a ScenarioError placed on ``key``'s line ("": the table's)."""
        return ScenarioError(problem, self.place(key))


def read_value(option: Option, value: Any, place: Place, context: Context) -> Any:
    """``value`` converted by ``option``'s kind, or a ScenarioError at ``place``."""
    try:
        return option.kind.convert(value, context)
    except Invalid as error:
        raise ScenarioError(str(error), place) from None


def read_table(
    table: Table,
    given: Mapping[str, Any],
    place: Callable[[str], Place],
    context: Context,
    extra: Sequence[str] = (),
) -> Values:
    """Read ``given`` (one TOML table) by ``table``'s options.

    ``place(key)`` gives the place of a key (``place("")`` the table's own). Keys in
    ``extra`` are allowed and left to the caller (an optimizer's hyperparameters); any other
    unknown key is an error. Returns the converted values under their canonical keys, with
    the defaults of options not given (None for optional ones without a default).
    """
    values = Values(place)
    allowed = table.keys() + list(extra)
    for key in given:
        if key not in allowed:
            raise values.fail(
                key,
                f"unknown key {show(key)}{suggest(key, allowed)}; allowed: {', '.join(allowed)}",
            )
    for option in table.options:
        spellings = [k for k in (option.key, *option.aliases) if k in given]
        if len(spellings) > 1:
            raise values.fail(
                spellings[1], f"{spellings[0]!r} and {spellings[1]!r} both set {option.key}"
            )
        if spellings:
            values[option.key] = read_value(
                option, given[spellings[0]], place(spellings[0]), context
            )
        elif option.required is not None:
            raise values.fail(option.key, option.required)
        else:
            values[option.key] = option.default
    return values


def read_text(option: Option, text: str, flag: str) -> Any:
    """A command-line value for ``option``: the text read as TOML would give it (an integer,
    else a number, else the string), then the option's own check; errors name ``flag``."""
    value: Any = text
    for number in (int, float):
        try:
            value = number(text)
            break
        except ValueError:
            continue
    return read_value(option, value, Place("", None, flag), Context())


# ------------------------------------------------------------------------------ the tables
#: What a leaderboard can rank by (``rank_by``, ``run --rank-by``).
RANK_BY = ("val_loss", "val_accuracy", "loss", "time_to_target", "grad_evals_to_target")
#: The badges a ``[[claim]]`` may name.
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

def _flavors() -> tuple[str, ...]:
    from tui_optim.engine.optimizers import FLAVORS

    return FLAVORS


def _activation_lookup(name: str) -> Any:
    from tui_optim.engine.activations import get_activation

    return get_activation(name)


def _surface_names() -> list[str]:
    from tui_optim.engine.surfaces import SURFACES

    return list(SURFACES)


def _dataset_names() -> list[str]:
    from tui_optim.engine.data import DATASETS

    return list(DATASETS)


TOP = Table(
    "",
    (
        Option("title", Text(), help="shown in the header and exports"),
        Option("description", Text(), default="", help="what the race shows"),
        Option("seed", Integer(0, MAX_SEED), default=0, help="weights, batches and data"),
        Option("epochs", Integer(1, MAX_EPOCHS), help="race length in passes over the data"),
        Option("steps", Integer(1, MAX_STEPS), help="race length in optimizer steps"),
        Option("target_loss", Number(), help="time-to-target and 'converged' use it"),
        Option("repeats", Integer(1, MAX_REPEATS), default=1, help="seeds per racer"),
        Option("pace", Pace(), help='steps per second in the app, or "max" (headless: ignored)'),
        Option(
            "flavor",
            Choice(_flavors),
            default="torch",
            help="whose update rules and defaults every racer follows (torch or keras)",
        ),
        Option("data", Subtable(), help="[data]: the dataset"),
        Option("model", Subtable(), help="[model]: the network"),
        Option("surface", Subtable(), help="[surface]: a 2-D loss surface instead"),
        Option("racer", Subtables(), default=[], help="[[racer]]: one optimizer each"),
        Option("grid", Subtable(), help="[grid]: racers from lists of values"),
        Option("sweep", Subtable(), help="[sweep]: learning-rate sweeps instead of racers"),
        Option(
            "rank_by",
            Choice(RANK_BY, "ranking"),
            help="what orders the leaderboard (default: val_loss with a validation split, "
            "else loss)",
        ),
        Option("look_for", Text(), default="", help="what to look for: shown in the app"),
        Option(
            "claim",
            Subtables("claim"),
            default=[],
            help="[[claim]]: what the race shows, checked by the tests",
        ),
    ),
)

#: One ``[[claim]]`` about ``racer``: it ends with ``status``, reaches the target ``before``
#: another racer, ends with a lower loss than the racer it ``beats``, ends ``near`` a point
#: (surfaces), overfits (its validation loss passes a minimum and ends above it while the
#: training loss keeps falling), or predicts at most ``horizon_at_most`` steps ahead; ``at``
#: checks the claim at that epoch (a surface: step) instead of the end. In a sweep ``racer``
#: is one of its optimizers, and the claims are about its tuned learning rate, the metric
#: there, its width in decades, its diverged runs, and the sweep's verdict. The names are
#: checked against the scenario's racers (a sweep's optimizers) by the parser.
CLAIM = Table(
    "claim",
    (
        Option("racer", Text(), required="missing: every claim names its racer"),
        Option("status", Choice(CLAIM_STATUSES, "status"), help="the racer's final badge"),
        Option("before", Text(), help="a racer it reaches the target before"),
        Option("beats", Text(), help="a racer whose final loss it beats"),
        Option("near", Point(), help="[x, y] the racer ends near (surfaces)"),
        Option("within", Number(low=0.0), default=0.02, help="how near: a distance"),
        Option("overfits", Flag(), help="its validation loss turns up, the training loss not"),
        Option(
            "overfits_before",
            Text(),
            help="a racer whose validation loss reaches its minimum later",
        ),
        Option("horizon_at_most", Number(low=0.0), help="steps ahead it predicts, at most"),
        Option("at", Integer(low=1), help="the epoch (surfaces: step) the claim is checked at"),
        # a sweep's claims: ``racer`` names one of its optimizers
        Option("tuned_lr_between", Point(), help="[low, high] its tuned learning rate is in"),
        Option("tuned_lr_above", Text(), help="an optimizer whose tuned learning rate is lower"),
        Option("tuned_between", Point(), help="[low, high] its metric at the tuned rate is in"),
        Option("wider_than", Text(), help="an optimizer with fewer decades within 10% of best"),
        Option("diverges", Flag(), help="some of its runs diverge (at the top of the range)"),
        Option("verdict", Text(), help="the sweep's verdict starts with this"),
    ),
)

#: The [data] keys every source takes; a source's own options (samples, noise ...) come
#: from its registry entry (``DatasetInfo.options``) and are read as :class:`HyperParameter`.
DATA = Table(
    "data",
    (
        Option(
            "source",
            Choice(_dataset_names),
            required=f"missing; allowed: {', '.join(_dataset_names())}",
        ),
        Option("path", Text(), help="csv only: the file, relative to the scenario"),
        Option("target", Column(), help="csv: target column name or index"),
        Option("columns", Indices(), help="feature columns to keep"),
        Option("rows", RowRange(), help="[start, stop) of the rows"),
        Option("encoding", Choice(("onehot", "binary", "index", "value"))),
        Option("scale", Choice(("none", "standard", "minmax")), default="none"),
        Option("validation", Number(0.0, 1.0, high_open=True), default=0.0),
        Option("batch_size", BatchSize(), help='rows per step or "full"'),
        Option("shuffle", Flag(), default=True),
    ),
)

MODEL = Table(
    "model",
    (
        Option("layers", Layers(), required="must be a list of at least two unit counts"),
        Option("hidden", Registered(_activation_lookup), default="sigmoid"),
        Option("output", Choice(("linear", "sigmoid", "softmax")), default="linear"),
        Option(
            "loss",
            Choice(("mse", "mae", "huber", "binary_cross_entropy", "cross_entropy")),
            default="mse",
        ),
        Option("init", Initializer(), default="glorot_uniform"),
        Option("dtype", Choice(("float64", "float32")), default="float64"),
    ),
)

SURFACE = Table(
    "surface",
    (
        Option(
            "function",
            Choice(_surface_names),
            required=f"missing; allowed: {', '.join(_surface_names())}",
        ),
        Option("start", Point()),
    ),
)

#: A racer's own keys; its optimizer's hyperparameters (with their aliases) are the rest.
#: The optimizer's name is looked up in the racer's flavor by the parser (the flavor's
#: registry is known only once ``flavor`` is read).
RACER = Table(
    "racer",
    (
        Option("optimizer", Text(), required="missing: every racer needs an optimizer"),
        Option("flavor", Choice(_flavors), help="default: the scenario's flavor"),
        Option("name", Text()),
        Option("start", Point(), help="surfaces only: overrides the surface's start"),
        Option("schedule", Schedule()),
        Option("colour", Colour(), aliases=("color",)),
        Option("batch_size", BatchSize(), help="this racer's batch size"),
    ),
)

#: Racer keys a [grid] does not take: it names, colours and places its racers itself.
GRID_EXCLUDED = ("name", "start", "colour", "color")

#: ``[sweep]``: optimizers x learning rates x seeds, instead of [[racer]] and [grid].
SWEEP = Table(
    "sweep",
    (
        Option(
            "optimizer",
            SweepEntries(),
            required="missing: a sweep needs optimizer = [names or tables]",
            help="names, or tables with optimizer, name, flavor and hyperparameters",
        ),
        Option(
            "lr",
            LearningRates(),
            required="missing: lr = { from = 1e-5, to = 1.0, points = 11 } or a list",
            help="log-spaced { from, to, points } or a list",
        ),
        Option("seeds", Integer(1, MAX_SEEDS), default=DEFAULT_SEEDS, help="seeds per point"),
        Option(
            "metric",
            Choice(SWEEP_METRICS),
            default="final_loss",
            help="what ranks the runs",
        ),
    ),
)

#: One table of a sweep's ``optimizer`` list; the rest of its keys are the optimizer's
#: hyperparameters (all but the learning rate, which the sweep sets).
SWEEP_ENTRY = Table(
    "sweep.optimizer",
    (
        Option("optimizer", Text(), required="each table needs optimizer = a name"),
        Option("name", Text(), help="the display name (default: from the hyperparameters)"),
        Option("flavor", Choice(_flavors, "flavor"), help="default: the scenario's flavor"),
    ),
)
