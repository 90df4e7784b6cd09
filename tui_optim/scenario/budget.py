"""What a scenario will need, estimated from the file alone, before anything is allocated.

A scenario is refused when the estimate passes :data:`MEMORY_BUDGET_BYTES` (4 GiB, a sixth
of a 24 GiB machine: several races, the app and the reference libraries fit beside it). The
estimate counts, at float64 or float32 as the model says:

- the data: rows x (features + target) values, about four copies at the peak of
  preparation (selection, split, scaling); a CSV file about 40 bytes a byte while parsed;
- the racers: racers x repeats x parameters x :data:`ARRAYS_PER_RACER` arrays (weights,
  gradients, the step's before and update, the effective step, up to three optimizer
  moments and scratch);
- the activations: racers x repeats x rows x units past the input, three arrays (pre-activation,
  activation, slope).

Work is estimated too: a source that loops in Python (the Lorenz integrator, about 10 us a
row) is refused when making its rows would take more than :data:`WORK_BUDGET_SECONDS`. Grid
sizes are counted from the list lengths before any racer is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_optim.scenario.schema import parameter_count

MEMORY_BUDGET_BYTES = 4 * 2**30
WORK_BUDGET_SECONDS = 5.0
ARRAYS_PER_RACER = 10
ACTIVATION_ARRAYS = 3


def size_text(count: float) -> str:
    """``"1.2 GiB"``: bytes in the largest binary unit that keeps the number below 1024."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Estimate:
    """Bytes the data and the racers need, and the key each part comes from."""

    data_bytes: int
    racer_bytes: int
    racers: int
    parameters: int
    data_seconds: float = 0.0
    source: str = ""

    @property
    def total(self) -> int:
        return self.data_bytes + self.racer_bytes

    def over_budget(self) -> str | None:
        """The one-line refusal when over :data:`MEMORY_BUDGET_BYTES` or
        :data:`WORK_BUDGET_SECONDS`, else None."""
        if self.total <= MEMORY_BUDGET_BYTES:
            if self.data_seconds <= WORK_BUDGET_SECONDS:
                return None
            return (
                f"making the {self.source} data would take about {self.data_seconds:.0f} s; "
                f"the budget is {WORK_BUDGET_SECONDS:.0f} s"
            )
        return (
            f"the race would need about {size_text(self.total)} of memory (data "
            f"{size_text(self.data_bytes)}; {self.racers} racer{'s' * (self.racers != 1)} x "
            f"{self.parameters:,} "
            f"parameters {size_text(self.racer_bytes)}); the budget is "
            f"{size_text(MEMORY_BUDGET_BYTES)}"
        )

    @property
    def data_dominates(self) -> bool:
        """Whether the data (its size or the time to make it) is what passes the budget."""
        return self.data_seconds > WORK_BUDGET_SECONDS or self.data_bytes >= self.racer_bytes


def estimate(
    source: Any,
    options: Mapping[str, Any],
    path: Path | None,
    layers: Sequence[int],
    dtype: str,
    racers: int,
) -> Estimate:
    """The estimate for a data source (a ``DatasetInfo``) and its options, an MLP of
    ``layers`` in ``dtype``, and ``racers`` rows (racers x repeats)."""
    itemsize = 4 if dtype == "float32" else 8
    shape = source.shape(source.with_defaults(options)) if source.shape is not None else None
    rows = shape[0] if shape is not None else 0
    parameters = parameter_count(layers)
    racer_bytes = (
        racers
        * itemsize
        * (parameters * ARRAYS_PER_RACER + rows * sum(layers[1:]) * ACTIVATION_ARRAYS)
    )
    return Estimate(
        source.estimated_bytes(options, path),
        racer_bytes,
        racers,
        parameters,
        source.estimated_seconds(options),
        source.name,
    )
