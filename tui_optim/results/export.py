"""Race results as JSON and CSV, and the leaderboard, all computed from a RaceRecord.

JSON (``tui-optim run ... --json FILE``, or ctrl+e in the app)::

    {
      "scenario": "iris_grid",          # built-in name or file stem
      "title": "...",
      "seed": 42,
      "fingerprint": "3f2a9c01d4",      # everything that determines the race (same => same race)
      "problem": "MLP 4-8-3 selu/softmax, cross_entropy on iris (120 train, 30 val, ...)",
      "target_loss": 0.1 | null,
      "racers": [
        {
          "name": "adam lr=0.01", "slug": "adam-lr-0.01", "optimizer": "adam",
          "flavor": "torch",            # whose rules and defaults: "torch" or "keras"
          "hparams": {"lr": 0.01, "beta1": 0.9, ...},
          "seed": 42, "repeat": 0,
          "status": "converged",
          "events": [{"step": 120, "epoch": 30.0, "status": "converged", "reason": "..."}],
          "final": {"loss": ..., "val_loss": ..., "accuracy": ..., "val_accuracy": ...,
                    "horizon": ...},     # steps predicted ahead (time series), else null
          "best_loss": 0.051,
          "grad_evals": 400,             # gradient evaluations (L-BFGS, SAM: > steps)
          "time_to_target": {"steps": 96, "epochs": 24.0, "seconds": 0.41,
                             "grad_evals": 96} | null,
          "history": {"step": [...], "epoch": [...], "seconds": [...], "loss": [...],
                      "val_loss": [...], "accuracy": [...], "grad_norm": [...],
                      "grad_evals": [...],
                      "update_ratio": [...],
                      "position": [[w0, w1], ...]},   # surfaces: the point before each step
          "id": 3, "colour": "#4e79a7", "schedule": null, "start": null, "parent": null,
          "position": [w0, w1] | null    # surfaces: where the racer ended
        }, ...
      ],
      "replay": {...}   # what `tui-optim replay FILE` needs to show the race again
    }

Numbers that do not apply (validation without a validation split, accuracy in regression)
and non-finite values are ``null``. ``history`` is the recorded, bounded history (old
points decimated keeping extremes). CSV: one row per racer and recorded point, columns
``racer, slug, optimizer, flavor, seed, step, epoch, seconds, loss, val_loss, accuracy,
grad_norm, grad_evals``.
Both are written atomically (a temporary file renamed over the target).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_optim.engine.atomic import atomic_write
from tui_optim.results.record import RaceRecord

HISTORY_FIELDS = (
    "step",
    "epoch",
    "seconds",
    "loss",
    "val_loss",
    "accuracy",
    "grad_norm",
    "grad_evals",
)
CSV_COLUMNS = ("racer", "slug", "optimizer", "flavor", "seed", *HISTORY_FIELDS)
DNF = ("diverged", "error")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, NumPy scalars -> Python numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if math.isfinite(number) else None


def results_document(record: RaceRecord) -> dict[str, Any]:
    """The race as a JSON-ready dictionary (the format in this module's docstring)."""
    started = record.started
    if started is None:
        raise ValueError("the race has not started yet: nothing to export")
    events: dict[int, list[dict[str, Any]]] = {}
    for event in record.events:
        events.setdefault(event.racer, []).append(
            {
                "step": event.step,
                "epoch": _clean(event.epoch),
                "status": event.status,
                "reason": event.reason,
            }
        )
    racers = []
    for rid, spec in record.specs.items():
        stats = record.stats.get(rid)
        history = record.histories.get(rid)
        arrays = history.arrays() if history is not None else {}
        racers.append(
            {
                "name": spec.name,
                "slug": spec.slug,
                "optimizer": spec.optimizer,
                "flavor": spec.flavor,
                "hparams": {k: _clean(v) for k, v in spec.hparams.items()},
                "seed": spec.seed,
                "repeat": spec.repeat,
                "status": record.status(rid),
                "events": events.get(rid, []),
                "final": {
                    "loss": _clean(_final_loss(stats)),
                    "val_loss": _clean(stats.val_loss if stats else None),
                    "accuracy": _clean(stats.accuracy if stats else None),
                    "val_accuracy": _clean(stats.val_accuracy if stats else None),
                    "horizon": _clean(stats.horizon if stats else None),
                },
                "best_loss": _clean(stats.best_loss if stats else None),
                "grad_evals": stats.grad_evals if stats else None,
                "time_to_target": (
                    None
                    if stats is None or stats.time_to_target is None
                    else {
                        "steps": stats.time_to_target.steps,
                        "epochs": _clean(stats.time_to_target.epochs),
                        "seconds": _clean(stats.time_to_target.seconds),
                        "grad_evals": stats.time_to_target.grad_evals,
                    }
                ),
                "history": {
                    **{
                        name: [_clean(v) for v in arrays[name].tolist()] if name in arrays else []
                        for name in (*HISTORY_FIELDS, "update_ratio")
                    },
                    **(
                        {"position": [[_clean(v) for v in p] for p in arrays["position"].tolist()]}
                        if "position" in arrays
                        else {}
                    ),
                },
                "id": rid,
                "colour": spec.colour,
                "schedule": spec.schedule,
                "start": None if spec.start is None else list(spec.start),
                "parent": spec.parent,
                "reason": stats.reason if stats else "",
                "position": None
                if stats is None or stats.position is None
                else [_clean(v) for v in stats.position],
            }
        )
    problem = started.problem
    return {
        "scenario": started.scenario,
        "title": started.title,
        "seed": started.seed,
        "fingerprint": started.fingerprint,
        "problem": started.problem.description,
        "target_loss": _clean(started.target_loss),
        "racers": racers,
        "replay": {
            "kind": problem.kind,
            "is_classification": problem.is_classification,
            "surface": problem.surface,
            "bounds": None if problem.bounds is None else list(problem.bounds),
            "minima": [list(m) for m in problem.minima],
            "steps_per_epoch": problem.steps_per_epoch,
            "total_epochs": started.total_epochs,
            "total_steps": started.total_steps,
            "repeats": started.repeats,
            "step": record.step,
            "epoch": _clean(record.epoch),
            "seconds": _clean(record.seconds),
            "events": [
                {
                    "racer": event.racer,
                    "step": event.step,
                    "epoch": _clean(event.epoch),
                    "seconds": _clean(event.seconds),
                    "status": event.status,
                    "reason": event.reason,
                }
                for event in record.events
            ],
        },
    }


def _final_loss(stats: Any) -> float | None:
    if stats is None:
        return None
    return stats.epoch_loss if math.isfinite(stats.epoch_loss) else stats.loss


def write_json(record: RaceRecord, path: Path) -> None:
    document = results_document(record)
    with atomic_write(Path(path)) as stream:
        json.dump(document, stream, indent=2, allow_nan=False)
        stream.write("\n")


def write_csv(record: RaceRecord, path: Path) -> None:
    if record.started is None:
        raise ValueError("the race has not started yet: nothing to export")
    with atomic_write(Path(path), newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        for rid, spec in record.specs.items():
            history = record.histories.get(rid)
            if history is None:
                continue
            arrays = history.arrays()
            columns = [arrays[name].tolist() for name in HISTORY_FIELDS]
            for values in zip(*columns, strict=True):
                cells = ["" if not math.isfinite(v) else f"{v:.10g}" for v in values]
                writer.writerow(
                    [spec.name, spec.slug, spec.optimizer, spec.flavor, spec.seed, *cells]
                )


# ------------------------------------------------------------------------------ leaderboard
@dataclass(frozen=True)
class LeaderRow:
    """One line of the leaderboard: a racer, or the mean over its repeats (``runs`` > 1)."""

    rank: int | None  # None: DNF
    name: str
    optimizer: str
    status: str
    runs: int
    finished_runs: int  # runs that did not diverge or fail
    steps_to_target: float | None
    epochs_to_target: float | None
    seconds_to_target: float | None
    grad_evals_to_target: float | None
    best_loss: float | None
    best_loss_std: float | None
    final_loss: float | None
    final_loss_std: float | None
    val_accuracy: float | None
    val_accuracy_std: float | None
    reached_target: int  # runs that reached the target loss
    horizon: float | None = None  # time series: mean steps predicted ahead
    horizon_std: float | None = None
    flavor: str = "torch"

    @property
    def dnf(self) -> bool:
        return self.rank is None


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None, None
    if len(finite) == 1:
        return finite[0], None
    return statistics.fmean(finite), statistics.stdev(finite)


def leaderboard(record: RaceRecord) -> list[LeaderRow]:
    """Racers ranked by steps to the target loss, then best loss; DNF (diverged) last.

    Racers that share a name across repeats are one row with mean and standard deviation.
    """
    groups: dict[str, list[int]] = {}
    for rid, spec in record.specs.items():
        groups.setdefault(spec.name, []).append(rid)
    rows = []
    for name, ids in groups.items():
        spec = record.specs[ids[0]]
        stats = [record.stats.get(rid) for rid in ids]
        statuses = [record.status(rid) for rid in ids]
        alive = [
            s
            for s, status in zip(stats, statuses, strict=True)
            if s is not None and status not in DNF
        ]
        reached = [s.time_to_target for s in alive if s.time_to_target is not None]
        best, best_std = _mean_std([s.best_loss for s in alive])
        final, final_std = _mean_std([_final_loss(s) for s in alive])
        accuracy, accuracy_std = _mean_std(
            [s.val_accuracy for s in alive if s.val_accuracy is not None]
        )
        horizon, horizon_std = _mean_std([s.horizon for s in alive if s.horizon is not None])
        all_dnf = not alive
        status = statuses[0] if len(set(statuses)) == 1 else "mixed"
        rows.append(
            LeaderRow(
                rank=None if all_dnf else 0,
                name=name,
                optimizer=spec.optimizer,
                status=status,
                runs=len(ids),
                finished_runs=len(alive),
                # a mean time to target only when every surviving run got there
                steps_to_target=_mean_std([t.steps for t in reached])[0]
                if reached and len(reached) == len(alive)
                else None,
                epochs_to_target=_mean_std([t.epochs for t in reached])[0]
                if reached and len(reached) == len(alive)
                else None,
                seconds_to_target=_mean_std([t.seconds for t in reached])[0]
                if reached and len(reached) == len(alive)
                else None,
                grad_evals_to_target=_mean_std([t.grad_evals for t in reached])[0]
                if reached and len(reached) == len(alive)
                else None,
                best_loss=best,
                best_loss_std=best_std,
                final_loss=final,
                final_loss_std=final_std,
                val_accuracy=accuracy,
                val_accuracy_std=accuracy_std,
                reached_target=len(reached),
                horizon=horizon,
                horizon_std=horizon_std,
                flavor=spec.flavor,
            )
        )

    def order(row: LeaderRow) -> tuple[float, ...]:
        return (
            1.0 if row.dnf else 0.0,
            math.inf if row.steps_to_target is None else row.steps_to_target,
            math.inf if row.best_loss is None else row.best_loss,
        )

    rows.sort(key=order)
    ranked = []
    rank = 0
    for row in rows:
        if row.dnf:
            ranked.append(row)
            continue
        rank += 1
        ranked.append(_with_rank(row, rank))
    return ranked


def _with_rank(row: LeaderRow, rank: int) -> LeaderRow:
    from dataclasses import replace

    return replace(row, rank=rank)


# ------------------------------------------------------------------------------ grid table
@dataclass(frozen=True)
class GridCell:
    """One cell of a grid race's table: the racer's final loss and validation accuracy,
    each the mean over the repeats that did not diverge (None when none did)."""

    final_loss: float | None
    val_accuracy: float | None
    status: str


def grid_table(record: RaceRecord) -> tuple[list[str], list[str], list[list[GridCell | None]]]:
    """The table the course's exercises fill in: grid rows (optimizers) x columns
    (learning rates), each cell final loss / validation accuracy. Raises ValueError for a
    race that is not a grid."""
    started = record.started
    if started is None or started.grid is None:
        raise ValueError("this race is not a grid: no optimizer x learning-rate table")
    (row_key, rows), (column_key, columns) = started.grid
    columns = columns or (None,)
    row_labels = [_axis_label(row_key, value) for value in rows]
    column_labels = [_axis_label(column_key, value) for value in columns]
    found: dict[tuple[int, int], list[Any]] = {}
    for rid, spec in record.specs.items():
        if spec.grid_position is not None:
            found.setdefault(spec.grid_position, []).append(record.stats.get(rid))
    cells: list[list[GridCell | None]] = []
    for i in range(len(rows)):
        line: list[GridCell | None] = []
        for j in range(len(columns)):
            stats = [s for s in found.get((i, j), []) if s is not None]
            if not stats:
                line.append(None)
                continue
            alive = [s for s in stats if s.status not in DNF]
            losses = [v for v in (_final_loss(s) for s in alive) if v is not None]
            losses = [v for v in losses if math.isfinite(v)]
            accuracies = [s.val_accuracy for s in alive if s.val_accuracy is not None]
            status = stats[0].status if len({s.status for s in stats}) == 1 else "mixed"
            line.append(
                GridCell(
                    statistics.fmean(losses) if losses else None,
                    statistics.fmean(accuracies) if accuracies else None,
                    status,
                )
            )
        cells.append(line)
    return row_labels, column_labels, cells


def _axis_label(key: str | None, value: object) -> str:
    if key is None:
        return ""
    if isinstance(value, float):
        return f"{key} {value:g}"
    return str(value)


def write_grid_table(record: RaceRecord, path: Path) -> None:
    """The grid table as CSV: one row per grid row, a final-loss and a validation-accuracy
    column per grid column (empty where it does not apply or diverged)."""
    rows, columns, cells = grid_table(record)
    with atomic_write(Path(path), newline="") as stream:
        writer = csv.writer(stream)
        header = [""]
        for column in columns:
            header += [f"{column} final_loss".strip(), f"{column} val_accuracy".strip()]
        writer.writerow(header)
        for label, line in zip(rows, cells, strict=True):
            values: list[str] = [label]
            for cell in line:
                for value in (cell and cell.final_loss, cell and cell.val_accuracy):
                    values.append("" if value is None else f"{value:.10g}")
            writer.writerow(values)
