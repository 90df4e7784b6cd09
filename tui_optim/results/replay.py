"""Replaying a race: a record rebuilt from its JSON export, and the race as it was at a step.

:func:`load_record` turns a results file (``tui-optim run --json``, ctrl+e) back into a
:class:`~tui_optim.results.record.RaceRecord`; :func:`record_at` gives the record as a
watcher saw it at an earlier step: histories cut there, each racer's figures, status and
events as they were. The app shows either one the same way it shows a live race.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.engine.errors import printable
from tui_optim.race.messages import (
    Event,
    HistoryChunk,
    LayerStats,
    ProblemInfo,
    RacerSpec,
    RacerStats,
    RaceStarted,
    TimeToTarget,
)
from tui_optim.results.history import FIELDS
from tui_optim.results.record import RaceRecord, new_history

#: Versions of the records record_at makes: unique, and apart from a live record's.
_VIEW_VERSIONS = itertools.count(1 << 40)


class ReplayError(ValueError):
    """The file is not a results export this version can replay (one line for the user)."""


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def load_record(path: Path) -> RaceRecord:
    """The race in results file ``path``, as a finished RaceRecord."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ReplayError(f"{path}: cannot read it ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReplayError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(document, dict) or "replay" not in document:
        raise ReplayError(
            f"{path}: no replay section; export the race again with this version of tui-optim"
        )
    try:
        return _record(document)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ReplayError(f"{path}: not a tui-optim results file ({error!r})") from None


def _record(document: dict[str, Any]) -> RaceRecord:
    replay = document["replay"]
    specs = []
    for racer in document["racers"]:
        specs.append(
            RacerSpec(
                id=int(racer["id"]),
                name=printable(str(racer["name"])),
                slug=racer["slug"],
                optimizer=racer["optimizer"],
                flavor=racer.get("flavor", "torch"),
                hparams=dict(racer["hparams"]),
                colour=racer["colour"],
                schedule=racer.get("schedule"),
                start=None if racer.get("start") is None else tuple(racer["start"]),
                parent=racer.get("parent"),
                grid_position=None
                if racer.get("grid_position") is None
                else (int(racer["grid_position"][0]), int(racer["grid_position"][1])),
                repeat=int(racer.get("repeat", 0)),
                seed=int(racer.get("seed", 0)),
            )
        )
    info = ProblemInfo(
        kind=replay["kind"],
        description=printable(str(document["problem"])),
        is_classification=bool(replay["is_classification"]),
        surface=replay.get("surface"),
        bounds=None if replay.get("bounds") is None else tuple(replay["bounds"]),
        minima=tuple(tuple(m) for m in replay.get("minima", ())),
        steps_per_epoch=int(replay.get("steps_per_epoch", 1)),
        has_validation=bool(replay.get("has_validation", False)),
    )
    started = RaceStarted(
        title=printable(str(document["title"])),
        scenario=printable(str(document["scenario"])),
        seed=int(document["seed"]),
        fingerprint=document["fingerprint"],
        problem=info,
        racers=tuple(specs),
        total_epochs=replay.get("total_epochs"),
        total_steps=replay.get("total_steps"),
        target_loss=document.get("target_loss"),
        repeats=int(replay.get("repeats", 1)),
        grid=_grid(replay.get("grid")),
    )
    record = RaceRecord()
    record.apply(started)
    for spec, racer in zip(specs, document["racers"], strict=True):
        history = racer["history"]
        columns = {name: np.array([_number(v) for v in history.get(name, [])]) for name in FIELDS}
        count = len(columns["step"])
        for name in FIELDS:
            if len(columns[name]) != count:
                columns[name] = np.full(count, math.nan)
        position = None
        if "position" in history:
            position = np.array(
                [[_number(v) for v in point] for point in history["position"]], dtype=float
            ).reshape(-1, 2)
        record.histories[spec.id].extend(HistoryChunk(**columns, position=position))
        record.stats[spec.id] = _final_stats(spec.id, racer, columns)
    record.events = [
        Event(
            racer=int(e["racer"]),
            step=int(e["step"]),
            epoch=_number(e["epoch"]),
            seconds=_number(e.get("seconds")),
            status=e["status"],
            reason=printable(str(e["reason"])),
        )
        for e in replay.get("events", [])
    ]
    record.event_count = len(record.events)
    record.step = int(replay.get("step", 0))
    record.epoch = _number(replay.get("epoch"))
    record.seconds = _number(replay.get("seconds"))
    record.state = "finished"
    record.snapshot_count = 1
    return record


def _grid(
    grid: Any,
) -> tuple[tuple[str, tuple[object, ...]], tuple[str | None, tuple[object, ...]]] | None:
    """A grid scenario's (row key, row values), (column key, column values), or None."""
    if grid is None:
        return None
    (row_key, rows), (column_key, columns) = grid
    return (str(row_key), tuple(rows)), (column_key, tuple(columns))


def _layers(racer: dict[str, Any]) -> tuple[LayerStats, ...]:
    return tuple(
        LayerStats(
            name=str(layer["name"]),
            weight_norm=_number(layer["weight_norm"]),
            grad_norm=_number(layer["grad_norm"]),
            update_ratio=_number(layer["update_ratio"]),
            effective_step=_number(layer["effective_step"]),
            state_norms={k: _number(v) for k, v in layer.get("state_norms", {}).items()},
        )
        for layer in racer.get("layers", ())
    )


def _final_stats(rid: int, racer: dict[str, Any], columns: dict[str, np.ndarray]) -> RacerStats:
    final = racer.get("final", {})
    target = racer.get("time_to_target")
    last = {
        name: (float(values[-1]) if len(values) else math.nan) for name, values in columns.items()
    }
    loss = final.get("loss")
    return _stats(
        rid,
        racer.get("status", "finished"),
        printable(str(racer.get("reason", ""))),
        last,
        loss=_number(loss) if loss is not None else last["loss"],
        batch_loss=_number(final["batch_loss"])
        if final.get("batch_loss") is not None
        else last["batch_loss"],
        sharpness=final.get("sharpness"),
        best=_number(racer.get("best_loss")),
        val_loss=final.get("val_loss"),
        accuracy=final.get("accuracy"),
        val_accuracy=final.get("val_accuracy"),
        horizon=final.get("horizon"),
        target=None
        if target is None
        else TimeToTarget(
            int(target["steps"]),
            _number(target["epochs"]),
            _number(target["seconds"]),
            int(target.get("grad_evals", target["steps"])),
            exact=bool(target.get("exact", True)),
            after=target.get("after"),
        ),
        position=None if racer.get("position") is None else tuple(racer["position"]),
        layers=_layers(racer),
    )


def _last_finite(values: np.ndarray) -> float | None:
    """The latest measured value of a sparse series (sharpness), or None."""
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


def _stats(
    rid: int,
    status: Any,
    reason: str,
    last: dict[str, float],
    *,
    loss: float,
    batch_loss: float,
    sharpness: float | None,
    best: float,
    val_loss: float | None,
    accuracy: float | None,
    val_accuracy: float | None,
    horizon: float | None,
    target: TimeToTarget | None,
    position: tuple[float, float] | None,
    layers: tuple[LayerStats, ...] = (),
) -> RacerStats:
    empty = HistoryChunk(*(np.empty(0) for _ in FIELDS))
    return RacerStats(
        id=rid,
        status=status,
        reason=reason,
        step=int(last["step"]) if math.isfinite(last["step"]) else 0,
        epoch=last["epoch"],
        loss=loss,
        batch_loss=batch_loss,
        val_loss=val_loss,
        accuracy=accuracy,
        val_accuracy=val_accuracy,
        best_loss=best,
        grad_norm=last["grad_norm"],
        update_norm=math.nan,
        update_ratio=last["update_ratio"],
        effective_step=math.nan,
        steps_per_s=0.0,
        seconds=last["seconds"],
        grad_evals=int(last["grad_evals"]) if math.isfinite(last["grad_evals"]) else 0,
        time_to_target=target,
        position=position,
        layers=layers,
        new_points=empty,
        horizon=horizon,
        sharpness=sharpness,
    )


def recorded_steps(record: RaceRecord) -> list[int]:
    """Every step at which some racer has a recorded point, in order (0: the start)."""
    steps = {0}
    for history in record.histories.values():
        steps.update(int(s) for s in history.arrays()["step"].tolist() if math.isfinite(s))
    return sorted(steps)


def scrub_target(record: RaceRecord, current: int, offset: int) -> int:
    """The step ``offset`` recorded points from ``current``; the record's own last step
    counts as a point (a race paused or ended between two evaluations): moving on past the
    last point reaches it."""
    steps = recorded_steps(record)
    if record.step > steps[-1]:
        steps.append(record.step)
    index = max((i for i, s in enumerate(steps) if s <= current), default=0)
    return steps[min(len(steps) - 1, max(0, index + offset))]


def record_at(record: RaceRecord, step: int) -> RaceRecord:
    """``record`` as it was after ``step`` steps: histories up to there, each racer's last
    figures, the statuses and events up to there. A step at or past the record's own gives
    its final figures (and the record's own statuses)."""
    view = RaceRecord()
    view.started = record.started
    view.specs = dict(record.specs)
    view.notices = list(record.notices)
    view.snapshot_count = max(1, record.snapshot_count)
    view.engine_error = None
    final = step >= record.step
    view.state = record.state if final else "paused"
    events = [event for event in record.events if event.step <= step]
    view.events = events
    view.event_count = len(events)
    statuses: dict[int, Event] = {}
    for event in events:
        statuses[event.racer] = event
    epoch = 0.0
    seconds = 0.0
    for rid, history in record.histories.items():
        arrays = history.arrays()
        keep = arrays["step"] <= step
        count = int(keep.sum())
        cut = new_history(history.with_position)
        position_after: tuple[float, float] | None = None
        if count:
            columns = {name: arrays[name][:count].copy() for name in FIELDS}
            positions = arrays["position"][:count].copy() if "position" in arrays else None
            cut.extend(HistoryChunk(**columns, position=positions))
        if "position" in arrays and count:  # a point's position is where it was evaluated
            x, y = arrays["position"][count - 1].tolist()
            position_after = (float(x), float(y))
        view.histories[rid] = cut
        original = record.stats.get(rid)
        if final and original is not None:
            view.stats[rid] = original
            continue
        if not count:
            continue
        last = {name: float(arrays[name][count - 1]) for name in FIELDS}
        epoch = max(epoch, last["epoch"])
        seconds = max(seconds, last["seconds"])
        latest = statuses.get(rid)
        target = original.time_to_target if original is not None else None
        losses = arrays["loss"][:count]
        finite = losses[np.isfinite(losses)]
        view.stats[rid] = _stats(
            rid,
            latest.status if latest is not None else "running",
            latest.reason if latest is not None else "",
            last,
            loss=last["loss"],
            batch_loss=last["batch_loss"],
            sharpness=_last_finite(arrays["sharpness"][:count]),
            best=float(finite.min()) if finite.size else math.nan,
            val_loss=None if math.isnan(last["val_loss"]) else last["val_loss"],
            accuracy=None if math.isnan(last["accuracy"]) else last["accuracy"],
            val_accuracy=None,
            horizon=None,
            target=target if target is not None and target.steps <= step else None,
            position=position_after,
        )
    view.step = record.step if final else step
    view.epoch = record.epoch if final else epoch
    view.seconds = record.seconds if final else seconds
    view.version = next(_VIEW_VERSIONS)
    return view
