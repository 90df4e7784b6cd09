"""Race results as JSON and CSV, and the leaderboard, all computed from a RaceRecord.

Every ``loss`` is the loss on the whole training set at the racer's weights (evaluated on
the recorder's cadence); ``batch_loss`` the mean loss of the mini-batches stepped on since
the previous point. JSON (``tui-optim run ... --json FILE``, or ctrl+e in the app)::

    {
      "scenario": "iris_grid",          # built-in name or file stem
      "title": "...",
      "seed": 42,
      "fingerprint": "3f2a9c01d4",      # everything that determines the race (same => same race)
      "problem": "MLP 4-8-3 selu/softmax, cross_entropy on iris (120 train, 30 val, ...)",
      "target_loss": 0.1 | null,
      "rank_by": "val_loss",            # what the leaderboard ranks by
      "racers": [
        {
          "name": "adam lr=0.01", "slug": "adam-lr-0.01", "optimizer": "adam",
          "flavor": "torch",            # whose rules and defaults: "torch" or "keras"
          "hparams": {"lr": 0.01, "beta1": 0.9, ...},
          "seed": 42, "repeat": 0,
          "status": "converged",
          "events": [{"step": 120, "epoch": 30.0, "status": "converged", "reason": "..."}],
          "final": {"loss": ..., "batch_loss": ..., "val_loss": ..., "accuracy": ...,
                    "val_accuracy": ..., "sharpness": ...,
                    "horizon": ...},     # steps predicted ahead (time series), else null
          "best_loss": 0.051,           # lowest whole-training-set loss evaluated
          "grad_evals": 400,             # gradient evaluations (L-BFGS, SAM: > steps)
          "time_to_target": {"steps": 96, "epochs": 24.0, "seconds": 0.41,
                             "grad_evals": 96,
                             "exact": true,   # steps is the crossing step itself; false:
                             "after": null    # the first evaluation at or below the
                            } | null,         # target, the crossing after step "after"
          "history": {"step": [...], "epoch": [...], "seconds": [...], "loss": [...],
                      "batch_loss": [...], "val_loss": [...], "accuracy": [...],
                      "val_accuracy": [...], "grad_norm": [...], "sharpness": [...],
                      "grad_evals": [...], "update_ratio": [...],
                      "position": [[w0, w1], ...]},   # surfaces: where each point was evaluated
          "id": 3, "colour": "#4e79a7", "schedule": null, "start": null, "parent": null,
          "grid_position": [row, column] | null,   # grid scenarios: the racer's cell
          "layers": [{"name": "dense 1", "weight_norm": ..., "grad_norm": ...,
                      "update_ratio": ..., "effective_step": ...,
                      "state_norms": {"|m|": ...}}, ...],   # per layer, at the last step
          "position": [w0, w1] | null    # surfaces: where the racer ended
        }, ...
      ],
      "aggregates": [                   # one per racer configuration (name) over its seeds
        {"name": "adam lr=0.01", "optimizer": "adam", "hparams": {...}, "runs": 3,
         "seeds": [42, 43, 44], "seeds_reaching_target": [42, 44],
         "loss": {"mean": ..., "std": ...}, "val_loss": {...}, "accuracy": {...},
         "val_accuracy": {...}, "steps_to_target": {...}}
      ],
      "replay": {...}   # what `tui-optim replay FILE` needs to show the race again
    }

Numbers that do not apply (validation without a validation split, accuracy in regression,
a standard deviation of one run) and non-finite values are ``null``. ``history`` is the
recorded, bounded history (thinned keeping every part's shape, see results.history).
CSV: one row per racer and recorded point, columns ``racer, slug, optimizer, flavor,
repeat, seed``, then one column per hyperparameter of any racer (empty where a racer's
optimizer has no such hyperparameter), then ``step, epoch, seconds, loss, batch_loss,
val_loss, accuracy, grad_norm, sharpness, grad_evals``. Both are written atomically (a
temporary file renamed over the target).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui_optim.engine.atomic import atomic_write
from tui_optim.race.messages import TERMINAL_STATUSES, Event, LayerStats
from tui_optim.results.record import RaceRecord

HISTORY_FIELDS = (
    "step",
    "epoch",
    "seconds",
    "loss",
    "batch_loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "grad_norm",
    "sharpness",
    "grad_evals",
)
RACER_COLUMNS = ("racer", "slug", "optimizer", "flavor", "repeat", "seed")
#: What the leaderboard can rank by (the scenario's ``rank_by``, ``--rank-by``).
RANK_LABELS = {
    "val_loss": "final validation loss",
    "val_accuracy": "final validation accuracy",
    "loss": "final training loss (whole training set)",
    "time_to_target": "steps to the target loss, then final training loss",
    "grad_evals_to_target": "gradient evaluations to the target loss, then final training loss",
}


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
                    "loss": _clean(stats.loss if stats else None),
                    "batch_loss": _clean(stats.batch_loss if stats else None),
                    "val_loss": _clean(stats.val_loss if stats else None),
                    "accuracy": _clean(stats.accuracy if stats else None),
                    "val_accuracy": _clean(stats.val_accuracy if stats else None),
                    "sharpness": _clean(stats.sharpness if stats else None),
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
                        "exact": stats.time_to_target.exact,
                        "after": stats.time_to_target.after,
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
                "grid_position": None
                if spec.grid_position is None
                else list(spec.grid_position),
                "layers": [_layer(layer) for layer in stats.layers] if stats else [],
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
        "rank_by": rank_key(record),
        "racers": racers,
        "aggregates": aggregates(record),
        "replay": {
            "kind": problem.kind,
            "is_classification": problem.is_classification,
            "surface": problem.surface,
            "bounds": None if problem.bounds is None else list(problem.bounds),
            "minima": [list(m) for m in problem.minima],
            "steps_per_epoch": problem.steps_per_epoch,
            "has_validation": problem.has_validation,
            "total_epochs": started.total_epochs,
            "total_steps": started.total_steps,
            "repeats": started.repeats,
            "grid": None
            if started.grid is None
            else [[key, [_clean(v) for v in values]] for key, values in started.grid],
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
                for event in chronological(record.events)
            ],
        },
    }


def _layer(layer: LayerStats) -> dict[str, Any]:
    return {
        "name": layer.name,
        "weight_norm": _clean(layer.weight_norm),
        "grad_norm": _clean(layer.grad_norm),
        "update_ratio": _clean(layer.update_ratio),
        "effective_step": _clean(layer.effective_step),
        "state_norms": {k: _clean(v) for k, v in layer.state_norms.items()},
    }


def chronological(events: Iterable[Event]) -> list[Event]:
    """``events`` by epoch, then racer id: a race split over engine processes delivers
    them in the order its processes happened to report, and an export must not depend on
    that. (A racer lives in one process, so its own events keep their order.)"""
    return sorted(events, key=lambda event: (event.epoch, event.step, event.racer))


def _spread(values: list[float | None]) -> dict[str, float | None]:
    mean, std = _mean_std(values)
    return {"mean": _clean(mean), "std": _clean(std)}


def aggregates(record: RaceRecord) -> list[dict[str, Any]]:
    """One entry per racer configuration (racers sharing a name across repeats): mean and
    standard deviation of the final figures over its seeds, and the seeds that reached the
    target loss."""
    out = []
    for name, ids in _configurations(record).items():
        spec = record.specs[ids[0]]
        stats = [record.stats.get(rid) for rid in ids]
        done = [s for s in stats if s is not None]

        def figures(key: str, done: list[Any] = done) -> list[float | None]:
            return [getattr(s, key) for s in done]

        reached = [
            record.specs[rid].seed
            for rid, s in zip(ids, stats, strict=True)
            if s is not None and s.time_to_target is not None
        ]
        out.append(
            {
                "name": name,
                "optimizer": spec.optimizer,
                "flavor": spec.flavor,
                "hparams": {k: _clean(v) for k, v in spec.hparams.items()},
                "runs": len(ids),
                "seeds": [record.specs[rid].seed for rid in ids],
                "seeds_reaching_target": reached,
                "loss": _spread(figures("loss")),
                "val_loss": _spread(figures("val_loss")),
                "accuracy": _spread(figures("accuracy")),
                "val_accuracy": _spread(figures("val_accuracy")),
                "steps_to_target": _spread(
                    [s.time_to_target.steps for s in done if s.time_to_target is not None]
                ),
            }
        )
    return out


def _configurations(record: RaceRecord) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for rid, spec in record.specs.items():
        groups.setdefault(spec.name, []).append(rid)
    return groups


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
        hparams: list[str] = []
        for spec in record.specs.values():
            hparams += [key for key in spec.hparams if key not in hparams]
        writer.writerow([*RACER_COLUMNS, *hparams, *HISTORY_FIELDS])
        for rid, spec in record.specs.items():
            history = record.histories.get(rid)
            if history is None:
                continue
            arrays = history.arrays()
            racer = [spec.name, spec.slug, spec.optimizer, spec.flavor, spec.repeat, spec.seed]
            racer += [_cell(spec.hparams.get(key)) for key in hparams]
            columns = [arrays[name].tolist() for name in HISTORY_FIELDS]
            for values in zip(*columns, strict=True):
                cells = ["" if not math.isfinite(v) else f"{v:.10g}" for v in values]
                writer.writerow([*racer, *cells])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.10g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------------------ leaderboard
@dataclass(frozen=True)
class LeaderRow:
    """One line of the leaderboard: a racer, or the mean over its repeats (``runs`` > 1).

    Every figure is a final one (at the race's end, or now): ``loss`` on the whole training
    set, ``val_loss`` and ``val_accuracy`` on the validation split; ``*_std`` their standard
    deviation over the repeats (None with one run)."""

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
    loss: float | None
    loss_std: float | None
    val_loss: float | None
    val_loss_std: float | None
    val_accuracy: float | None
    val_accuracy_std: float | None
    reached_target: int  # runs that reached the target loss
    horizon: float | None = None  # time series: mean steps predicted ahead
    horizon_std: float | None = None
    flavor: str = "torch"
    #: The time to target is the crossing step itself in every run; False: in some run only
    #: the first evaluation at or below the target (shown as "≤").
    target_exact: bool = True

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


def rank_key(record: RaceRecord, rank_by: str | None = None) -> str:
    """What the leaderboard ranks by: ``rank_by``, else the scenario's, else the final
    validation loss when there is a validation split, else the final training loss."""
    chosen = rank_by or (record.started.rank_by if record.started is not None else None)
    if chosen is not None:
        return chosen
    return "val_loss" if record.has_validation else "loss"


def rank_label(record: RaceRecord, rank_by: str | None = None) -> str:
    """What the leaderboard ranks by, in words; on a surface race the loss is f."""
    label = RANK_LABELS[rank_key(record, rank_by)]
    if record.is_surface:
        label = label.replace("training loss (whole training set)", "f")
        label = label.replace("training loss", "f")
    return label


def leaderboard(record: RaceRecord, rank_by: str | None = None) -> list[LeaderRow]:
    """Racers ranked by :func:`rank_key` (ties and missing values by the training loss);
    DNF (diverged or failed in every run) last. Racers that share a name across repeats
    are one row with mean and standard deviation."""
    key = rank_key(record, rank_by)
    rows = []
    for name, ids in _configurations(record).items():
        spec = record.specs[ids[0]]
        stats = [record.stats.get(rid) for rid in ids]
        statuses = [record.status(rid) for rid in ids]
        alive = [
            s
            for s, status in zip(stats, statuses, strict=True)
            if s is not None and status not in TERMINAL_STATUSES
        ]
        reached = [s.time_to_target for s in alive if s.time_to_target is not None]
        every = bool(reached) and len(reached) == len(alive)
        loss, loss_std = _mean_std([s.loss for s in alive])
        val_loss, val_loss_std = _mean_std([s.val_loss for s in alive])
        accuracy, accuracy_std = _mean_std([s.val_accuracy for s in alive])
        horizon, horizon_std = _mean_std([s.horizon for s in alive])
        rows.append(
            LeaderRow(
                rank=None if not alive else 0,
                name=name,
                optimizer=spec.optimizer,
                status=statuses[0] if len(set(statuses)) == 1 else "mixed",
                runs=len(ids),
                finished_runs=len(alive),
                # a mean time to target only when every surviving run got there
                steps_to_target=_mean_std([t.steps for t in reached])[0] if every else None,
                epochs_to_target=_mean_std([t.epochs for t in reached])[0] if every else None,
                seconds_to_target=_mean_std([t.seconds for t in reached])[0] if every else None,
                grad_evals_to_target=_mean_std([t.grad_evals for t in reached])[0]
                if every
                else None,
                loss=loss,
                loss_std=loss_std,
                val_loss=val_loss,
                val_loss_std=val_loss_std,
                val_accuracy=accuracy,
                val_accuracy_std=accuracy_std,
                reached_target=len(reached),
                horizon=horizon,
                horizon_std=horizon_std,
                flavor=spec.flavor,
                target_exact=all(t.exact for t in reached),
            )
        )

    def missing_last(value: float | None, sign: float = 1.0) -> float:
        return math.inf if value is None or not math.isfinite(value) else sign * value

    def order(row: LeaderRow) -> tuple[float, ...]:
        tie = missing_last(row.loss)
        if key == "val_loss":
            first = missing_last(row.val_loss)
        elif key == "val_accuracy":
            first = missing_last(row.val_accuracy, -1.0)
        elif key == "time_to_target":
            first = missing_last(row.steps_to_target)
        elif key == "grad_evals_to_target":
            first = missing_last(row.grad_evals_to_target)
        else:
            first = tie
        return (1.0 if row.dnf else 0.0, first, tie)

    rows.sort(key=order)
    ranked = []
    rank = 0
    for row in rows:
        if not row.dnf:
            rank += 1
            row = replace(row, rank=rank)
        ranked.append(row)
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
            alive = [s for s in stats if s.status not in TERMINAL_STATUSES]
            losses = [s.loss for s in alive if s.loss is not None]
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
