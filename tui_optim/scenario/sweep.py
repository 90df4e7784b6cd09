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

:func:`parse_sweep` builds the :class:`SweepSpec` from the table's values, read by
:data:`~tui_optim.scenario.schema.SWEEP` (each entry table by ``SWEEP_ENTRY``); the
scenario parser calls it and stores the result as ``Scenario.sweep``. The keys and their
limits are declared in the schema; this module checks the rules between them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui_optim.engine.optimizers import HyperparameterError, get_optimizer
from tui_optim.scenario.schema import (
    DEFAULT_SEEDS,
    MAX_LR_POINTS,
    MAX_SEEDS,
    MAX_SWEEP_RUNS,
    SWEEP,
    SWEEP_ENTRY,
    SWEEP_METRICS,
    Context,
    Place,
    ScenarioError,
    Values,
    read_table,
    read_value,
)

#: What a sweep ranks the runs by (declared in the schema); all but val_accuracy are
#: lower-is-better.
METRICS = SWEEP_METRICS
#: Runs stepped in lockstep in one block (the unit of work of tui_optim.race.sweep): what a
#: worker holds at once, and what the memory budget is checked for.
BLOCK_RUNS = 128

__all__ = [
    "BLOCK_RUNS",
    "DEFAULT_SEEDS",
    "MAX_LR_POINTS",
    "MAX_SEEDS",
    "MAX_SWEEP_RUNS",
    "METRICS",
    "SweepEntry",
    "SweepSpec",
    "entry_name",
    "log_spaced",
    "lr_key",
    "parse_sweep",
    "with_lr",
]


@dataclass(frozen=True)
class SweepEntry:
    """One optimizer of a sweep: its display name and validated hyperparameters.

    ``hparams`` holds the optimizer's defaults for everything the entry does not set; its
    ``lr`` is replaced by each learning rate of the sweep.
    """

    name: str
    optimizer: str
    hparams: Mapping[str, Any]
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


def lr_key(optimizer: str, flavor: str = "torch") -> str:
    """The hyperparameter a sweep sets: ``lr``, or a wrapper's (lookahead, sam) ``inner.lr``."""
    cls = get_optimizer(optimizer, flavor)
    return "lr" if any(spec.name == "lr" for spec in cls.hparams) else "inner.lr"


def with_lr(entry: SweepEntry, lr: float) -> dict[str, Any]:
    """``entry``'s hyperparameters at learning rate ``lr``, validated."""
    cls = get_optimizer(entry.optimizer, entry.flavor)
    return cls.validate({**entry.hparams, lr_key(entry.optimizer, entry.flavor): lr})


def parse_sweep(
    document: Mapping[str, Any],
    top: Values,
    place: Callable[[str], Place],
    context: Context,
    *,
    validation: float | None,
    batch_size: int | None,
    dtype: str = "float64",
) -> SweepSpec:
    """The :class:`SweepSpec` of ``document["sweep"]`` (``top``: the scenario's top-level
    values; ``place``: the [sweep] table's placer; ``validation``: the data's held-out
    fraction, None on a surface; ``batch_size``: the scenario's, None for full batch).
    Raises the located one-line ScenarioError."""
    for other, shape in (("racer", "[[racer]]"), ("grid", "[grid]"), ("repeats", "repeats")):
        if other in document:
            what = "use sweep.seeds" if other == "repeats" else "a sweep makes its own runs"
            raise ScenarioError(
                f"a [sweep] scenario takes no {shape} ({what}); remove one of them", place("")
            )
    values = read_table(SWEEP, top["sweep"], place, context)
    entries = _entries(values, context, top["flavor"], batch_size, dtype)
    lrs, seeds, metric = values["lr"], values["seeds"], values["metric"]
    if metric == "steps_to_target" and top["target_loss"] is None:
        raise values.fail("metric", "steps_to_target needs target_loss = ... at the top level")
    if metric in ("val_loss", "val_accuracy") and not validation:
        raise values.fail(
            "metric",
            f"{metric} needs held-out data: set [data] validation = 0.2 (a fraction), or use "
            "final_loss or best_loss",
        )
    spec = SweepSpec(tuple(entries), lrs, seeds, metric)
    if spec.runs > MAX_SWEEP_RUNS:
        raise values.fail(
            "seeds" if "seeds" in top["sweep"] else "lr",
            f"{len(entries)} optimizers x {len(lrs)} learning rates x {seeds} seeds = "
            f"{spec.runs:,} runs; the limit is {MAX_SWEEP_RUNS:,}",
        )
    return spec


def _entries(
    values: Values, context: Context, default_flavor: str, batch_size: int | None, dtype: str
) -> list[SweepEntry]:
    """Every item of ``optimizer``: a name, or a table read by ``SWEEP_ENTRY`` whose other
    keys are the optimizer's hyperparameters (errors on the optimizer key's line)."""
    from tui_optim.scenario.parser import _check_fits, _optimizer_class

    at = values.place("optimizer")

    def entry_place(key: str) -> Place:
        return at

    def fail(problem: str) -> ScenarioError:
        return ScenarioError(problem, at)

    entries: list[SweepEntry] = []
    for item in values["optimizer"]:
        table = {"optimizer": item} if isinstance(item, str) else item
        flavor = default_flavor
        if "flavor" in table:
            flavor = read_value(SWEEP_ENTRY.option("flavor"), table["flavor"], at, context)
        label = table.get("optimizer")
        if not isinstance(label, str):
            raise fail(f"each table needs optimizer = a name, got {table!r}")
        cls = _optimizer_class(label, flavor, at)
        for key in table:
            if key not in ("optimizer", "name", "flavor") and cls.canonical_name(key) == "lr":
                raise fail(f"{label}: remove {key} = ...; the sweep sets the learning rate")
        hparam_keys = [key for key in cls.accepted_keys() if cls.canonical_name(key) != "lr"]
        own = read_table(SWEEP_ENTRY, table, entry_place, context, extra=hparam_keys)
        name = own["name"]
        if name is not None and not name.strip():
            raise fail(f"name must be a non-empty string, got {name!r}")
        given = {k: v for k, v in table.items() if k in hparam_keys}
        try:
            hparams = cls.validate(given)
        except HyperparameterError as error:
            raise fail(str(error)) from None
        if lr_key(cls.name, flavor) in hparams and "lr" not in hparams:
            raise fail(f"{label}: remove inner's lr; the sweep sets the learning rate")
        _check_fits(cls, hparams, given, dtype, entry_place)
        if batch_size and cls.requires_full_batch(hparams):
            raise fail(
                f"{cls.name} needs the full batch, and this sweep's batches are of "
                f'{batch_size}; set batch_size = "full" in [data]'
            )
        default = entry_name(cls.name, hparams, flavor)
        if flavor != "torch":
            default = f"{default} ({flavor})"
        entry = SweepEntry(name or default, cls.name, hparams, flavor)
        if any(other.name == entry.name for other in entries):
            raise fail(f"two entries are named {entry.name!r}; give one a name = ...")
        entries.append(entry)
    return entries
