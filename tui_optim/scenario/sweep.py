"""The ``[sweep]`` table: optimizers x learning rates x seeds, instead of racers.

::

    [sweep]
    optimizer = ["sgd", "adam", { optimizer = "sgd", momentum = 0.9, name = "SGD+mom" }]
    lr = { from = 1e-5, to = 100.0, points = 36 }   # log-spaced, both ends; or a list
    seeds = 5                                        # default 3
    metric = "final_loss"   # final_loss best_loss val_loss val_accuracy steps_to_target

Every run of a sweep is one optimizer entry at one learning rate from one seed. Seed ``k``
(``scenario.seed + k``) gives every entry the same initial weights and batch order, so the
entries are compared in pairs; different seeds differ in both.

:func:`parse_sweep` reads the table of a parsed TOML document; the scenario parser calls it
and stores the result as ``Scenario.sweep``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_optim.engine.errors import UnknownNameError, suggest
from tui_optim.engine.optimizers import get_optimizer

if TYPE_CHECKING:
    from tui_optim.scenario.parser import _Where

#: What a sweep ranks the runs by; every one but val_accuracy is lower-is-better.
METRICS = ("final_loss", "best_loss", "val_loss", "val_accuracy", "steps_to_target")
SWEEP_KEYS = ["optimizer", "lr", "seeds", "metric"]
ENTRY_KEYS = ["optimizer", "name", "flavor"]
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
MAX_LR_POINTS = 1000
#: Runs (entries x learning rates x seeds) one sweep may hold.
MAX_SWEEP_RUNS = 100_000


@dataclass(frozen=True)
class SweepEntry:
    """One optimizer of a sweep: its display name and validated hyperparameters.

    ``hparams`` holds the optimizer's defaults for everything the entry does not set; its
    ``lr`` is replaced by each learning rate of the sweep.
    """

    name: str
    optimizer: str
    hparams: Mapping[str, float | int | bool]
    flavor: str = "torch"  # whose update rules and defaults: "torch" or "keras"


@dataclass(frozen=True)
class SweepSpec:
    entries: tuple[SweepEntry, ...]
    lrs: tuple[float, ...]  # increasing
    seeds: int = DEFAULT_SEEDS
    metric: str = "final_loss"

    @property
    def runs(self) -> int:
        return len(self.entries) * len(self.lrs) * self.seeds

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "val_accuracy"


def log_spaced(start: float, stop: float, points: int) -> tuple[float, ...]:
    """``points`` learning rates evenly spaced in log10 from ``start`` to ``stop``, both ends
    exact (1e-5 .. 100 in 36 points steps by a factor of 10^(7/35))."""
    low, high = math.log10(start), math.log10(stop)
    values = [10 ** (low + (high - low) * i / (points - 1)) for i in range(points)]
    values[0], values[-1] = start, stop
    return tuple(values)


def entry_name(optimizer: str, hparams: Mapping[str, Any], flavor: str = "torch") -> str:
    """``"sgd momentum=0.9"``: the optimizer and the hyperparameters it changes."""
    defaults = get_optimizer(optimizer, flavor).defaults()
    parts = [optimizer]
    for key, value in hparams.items():
        if key != "lr" and value != defaults.get(key):
            parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def parse_sweep(
    where: _Where,
    document: Mapping[str, Any],
    target_loss: float | None,
    validation: float | None,
    flavor: str = "torch",
) -> SweepSpec:
    """Validate ``document["sweep"]`` (``validation``: the data's held-out fraction, None on
    a surface; ``flavor``: the scenario's, which an entry's own ``flavor`` overrides);
    raises the parser's located one-line ScenarioError."""
    from tui_optim.scenario.parser import _Reader, _type_name, _unknown_keys

    table = document["sweep"]
    if not isinstance(table, dict):
        raise where.error("", "sweep", f"must be a table [sweep], got {_type_name(table)}")
    for other, shape in (("racer", "[[racer]]"), ("grid", "[grid]"), ("repeats", "repeats")):
        if other in document:
            what = "use sweep.seeds" if other == "repeats" else "a sweep makes its own runs"
            raise where.error(
                "sweep", "", f"a [sweep] scenario takes no {shape} ({what}); remove one of them"
            )
    _unknown_keys(where, "sweep", table, SWEEP_KEYS)
    read = _Reader(where, "sweep", table)
    entries = _entries(read, table.get("optimizer"), flavor)
    lrs = _learning_rates(read, table.get("lr"))
    seeds = read.integer("seeds", DEFAULT_SEEDS, low=1, high=MAX_SEEDS) or DEFAULT_SEEDS
    metric = read.text("metric", "final_loss", METRICS) or "final_loss"
    if metric == "steps_to_target" and target_loss is None:
        raise read.fail("metric", "steps_to_target needs target_loss = ... at the top level")
    if metric in ("val_loss", "val_accuracy") and not validation:
        raise read.fail(
            "metric",
            f"{metric} needs held-out data: set [data] validation = 0.2 (a fraction), or use "
            "final_loss or best_loss",
        )
    spec = SweepSpec(tuple(entries), lrs, seeds, metric)
    if spec.runs > MAX_SWEEP_RUNS:
        raise read.fail(
            "seeds" if "seeds" in table else "lr",
            f"{len(entries)} optimizers x {len(lrs)} learning rates x {seeds} seeds = "
            f"{spec.runs:,} runs; the limit is {MAX_SWEEP_RUNS:,}",
        )
    return spec


def _entries(read: Any, raw: Any, default_flavor: str) -> list[SweepEntry]:
    from tui_optim.engine.optimizers import FLAVORS

    if raw is None:
        raise read.fail("optimizer", "missing: a sweep needs optimizer = [names or tables]")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise read.fail("optimizer", "the list is empty; name at least one optimizer")
    entries: list[SweepEntry] = []
    for item in items:
        given: dict[str, Any]
        flavor = default_flavor
        if isinstance(item, str):
            name, given, label = None, {}, item
        elif isinstance(item, dict):
            label = item.get("optimizer")
            if not isinstance(label, str):
                raise read.fail("optimizer", f"each table needs optimizer = a name, got {item!r}")
            name = item.get("name")
            if name is not None and (not isinstance(name, str) or not name.strip()):
                raise read.fail("optimizer", f"name must be a non-empty string, got {name!r}")
            given = {k: v for k, v in item.items() if k not in ENTRY_KEYS}
            flavor = item.get("flavor", default_flavor)
            if flavor not in FLAVORS:
                raise read.fail(
                    "optimizer", f"unknown flavor {flavor!r}; allowed: {', '.join(FLAVORS)}"
                )
        else:
            raise read.fail(
                "optimizer", f"each item is an optimizer name or a table, got {item!r}"
            )
        try:
            cls = get_optimizer(label, flavor)
        except UnknownNameError as error:
            raise read.fail("optimizer", str(error)) from None
        for key in given:
            if cls.canonical_name(key) == "lr":
                raise read.fail(
                    "optimizer", f"{label}: remove {key} = ...; the sweep sets the learning rate"
                )
        hparams = _validated(read, cls.name, given, flavor)
        default = entry_name(cls.name, hparams, flavor)
        if flavor != "torch":
            default = f"{default} ({flavor})"
        entry = SweepEntry(name or default, cls.name, hparams, flavor)
        if any(other.name == entry.name for other in entries):
            raise read.fail(
                "optimizer", f"two entries are named {entry.name!r}; give one a name = ..."
            )
        entries.append(entry)
    return entries


def _validated(
    read: Any, optimizer: str, given: Mapping[str, Any], flavor: str
) -> dict[str, Any]:
    from tui_optim.scenario.parser import _hparams

    cls = get_optimizer(optimizer, flavor)
    known = {h.name for h in cls.hparams} | {a for h in cls.hparams for a in h.aliases}
    known |= set(cls.pair_aliases)
    for key in given:
        if key not in known:
            allowed = sorted(known - {"lr", "learning_rate"})
            raise read.fail(
                "optimizer",
                f"{optimizer}: unknown hyperparameter {key!r}{suggest(key, allowed)}; "
                f"allowed: {', '.join(allowed) or 'none'}, name",
            )
    return _hparams(read, optimizer, given, flavor)


def _learning_rates(read: Any, raw: Any) -> tuple[float, ...]:
    if raw is None:
        raise read.fail("lr", "missing: lr = { from = 1e-5, to = 1.0, points = 11 } or a list")
    if isinstance(raw, dict):
        unknown = [key for key in raw if key not in ("from", "to", "points")]
        if unknown:
            raise read.fail("lr", f"unknown key {unknown[0]!r}; allowed: from, to, points")
        inner = _Range(read, raw)
        start = inner.number("from")
        stop = inner.number("to")
        points = raw.get("points")
        if start <= 0:
            raise read.fail("lr", f"from must be above 0 (a log scale), got {start:g}")
        if stop <= start:
            raise read.fail("lr", f"to must be above from ({start:g}), got {stop:g}")
        if isinstance(points, bool) or not isinstance(points, int):
            raise read.fail("lr", f"points must be an integer, got {points!r}")
        if not 2 <= points <= MAX_LR_POINTS:
            raise read.fail("lr", f"points must be in [2, {MAX_LR_POINTS}], got {points}")
        return log_spaced(start, stop, points)
    if not isinstance(raw, list) or not raw:
        raise read.fail("lr", f"must be {{ from, to, points }} or a list of numbers, got {raw!r}")
    values = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise read.fail("lr", f"every learning rate must be a number, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise read.fail("lr", f"every learning rate must be above 0 and finite, got {value}")
        values.append(float(value))
    if len(set(values)) != len(values):
        raise read.fail("lr", "a learning rate is listed twice")
    if len(values) > MAX_LR_POINTS:
        raise read.fail("lr", f"at most {MAX_LR_POINTS} learning rates, got {len(values)}")
    return tuple(sorted(values))


class _Range:
    """The numbers of an ``lr = { from, to, points }`` table, errors at the lr key."""

    def __init__(self, read: Any, table: Mapping[str, Any]):
        self.read, self.table = read, table

    def number(self, key: str) -> float:
        value = self.table.get(key)
        if value is None:
            raise self.read.fail("lr", f"{key} is missing; give from, to and points")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.read.fail("lr", f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.read.fail("lr", f"{key} must be finite, got {value}")
        return float(value)
