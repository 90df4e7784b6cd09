"""A sweep's results as they arrive: per-run summaries, per-lr spreads, tuning, comparison.

:class:`SweepRecord` takes the :class:`~tui_optim.race.sweep.BlockResult` of each block in
any order and answers from the runs it has, so the app can draw a sweep while it fills in
and an interrupted sweep still writes what it finished. Its JSON and CSV depend only on the
results (no timings): the same sweep writes the same files.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tui_optim.race.sweep import BlockResult, RunSummary
from tui_optim.results import sweep_stats as stats
from tui_optim.scenario import Scenario
from tui_optim.scenario.sweep import SweepSpec, with_lr


@dataclass(frozen=True)
class LrCell:
    """One entry at one learning rate: the spread of its finished seeds."""

    lr: float
    runs: int  # seeds done
    diverged: int  # of those, how many diverged or failed
    spread: stats.Spread


@dataclass(frozen=True)
class Tuned:
    """An entry at its tuned learning rate (``lr`` None: nothing usable yet)."""

    name: str
    lr: float | None
    lr_index: int | None
    spread: stats.Spread
    width_decades: float | None
    diverged: int  # over the whole sweep of this entry


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


class SweepRecord:
    """Everything kept of a sweep; bounded (per run a summary and a short curve)."""

    def __init__(self, scenario: Scenario, fingerprint: str = ""):
        assert scenario.sweep is not None
        self.scenario = scenario
        self.spec: SweepSpec = scenario.sweep
        self.fingerprint = fingerprint
        self.summaries: dict[int, RunSummary] = {}

    # ---------------------------------------------------------------- filling in
    def add(self, result: BlockResult) -> None:
        for summary in result.summaries:
            self.summaries[summary.index] = summary

    def extend(self, results: Iterable[BlockResult]) -> None:
        for result in results:
            self.add(result)

    @property
    def done(self) -> int:
        return len(self.summaries)

    @property
    def total(self) -> int:
        return self.spec.runs

    @property
    def complete(self) -> bool:
        return self.done == self.total

    # ---------------------------------------------------------------- reading
    def index(self, entry: int, lr_index: int, seed_index: int) -> int:
        spec = self.spec
        return (entry * len(spec.lrs) + lr_index) * spec.seeds + seed_index

    def metric_of(self, summary: RunSummary) -> float:
        """The run's metric; a diverged run counts as the worst value."""
        higher = self.spec.higher_is_better
        if summary.status != "finished":
            return stats.worst(higher)
        value = {
            "final_loss": summary.final_loss,
            "best_loss": summary.best_loss,
            "val_loss": summary.val_loss,
            "val_accuracy": summary.val_accuracy,
            "steps_to_target": summary.steps_to_target,
        }[self.spec.metric]
        if value is None or not math.isfinite(value):
            return stats.worst(higher)
        return float(value)

    def values(self, entry: int, lr_index: int) -> list[float]:
        """The metric of every finished seed of one entry at one learning rate."""
        out = []
        for seed_index in range(self.spec.seeds):
            summary = self.summaries.get(self.index(entry, lr_index, seed_index))
            if summary is not None:
                out.append(self.metric_of(summary))
        return out

    def cell(self, entry: int, lr_index: int) -> LrCell:
        runs = [
            self.summaries.get(self.index(entry, lr_index, s)) for s in range(self.spec.seeds)
        ]
        done = [run for run in runs if run is not None]
        diverged = sum(run.status != "finished" for run in done)
        return LrCell(
            self.spec.lrs[lr_index],
            len(done),
            diverged,
            stats.spread([self.metric_of(run) for run in done]),
        )

    def row(self, entry: int) -> list[LrCell]:
        return [self.cell(entry, i) for i in range(len(self.spec.lrs))]

    def tuned(self, entry: int) -> Tuned:
        cells = self.row(entry)
        medians = [c.spread.median if c.runs else math.nan for c in cells]
        higher = self.spec.higher_is_better
        best = stats.tuned_index(medians, higher)
        name = self.spec.entries[entry].name
        diverged = sum(c.diverged for c in cells)
        if best is None:
            nothing = stats.Spread(math.nan, math.nan, math.nan)
            return Tuned(name, None, None, nothing, None, diverged)
        width = stats.width_decades(list(self.spec.lrs), medians, higher)
        return Tuned(name, self.spec.lrs[best], best, cells[best].spread, width, diverged)

    def tuned_values(self) -> np.ndarray | None:
        """(entries, seeds) metric at each entry's tuned lr; None until all are known."""
        rows = []
        for entry in range(len(self.spec.entries)):
            tuned = self.tuned(entry)
            if tuned.lr_index is None:
                return None
            values = self.values(entry, tuned.lr_index)
            if len(values) != self.spec.seeds:
                return None
            rows.append(values)
        return np.array(rows, dtype=np.float64)

    def comparison(self) -> dict[str, Any]:
        """P(A beats B) and P(win) at the tuned learning rates, and the verdict line."""
        names = [entry.name for entry in self.spec.entries]
        values = self.tuned_values()
        if values is None:
            return {"p_beats": {}, "p_win": {}, "verdict": "no clear winner (incomplete)"}
        higher = self.spec.higher_is_better
        beats = stats.beat_probabilities(values, higher)
        wins = stats.win_probabilities(values, higher)
        return {
            "p_beats": {
                a: {b: round(float(beats[i, j]), 4) for j, b in enumerate(names) if j != i}
                for i, a in enumerate(names)
            },
            "p_win": {name: round(float(wins[i]), 4) for i, name in enumerate(names)},
            "verdict": stats.verdict(names, beats),
        }

    def tuned_race(self) -> Scenario:
        """A race of every optimizer at its tuned learning rate, repeated over the sweep's
        seeds: the same weights and batches as the sweep's runs there."""
        from tui_optim.scenario import RacerConfig

        racers = []
        wins = self.comparison()["p_win"]
        p_win: dict[str, float] = {}
        for entry, item in enumerate(self.spec.entries):
            tuned = self.tuned(entry)
            if tuned.lr is not None:
                name = f"{item.name} lr={tuned.lr:.3g}"
                if item.name in wins:
                    p_win[name] = wins[item.name]
                racers.append(
                    RacerConfig(
                        name=name,
                        optimizer=item.optimizer,
                        hparams=with_lr(item, tuned.lr),
                        flavor=item.flavor,
                    )
                )
        return dataclasses.replace(
            self.scenario,
            title=f"{self.scenario.title}: tuned",
            racers=tuple(racers),
            repeats=self.spec.seeds,
            sweep=None,
            # the chart draws median and IQR; the leaderboard shows the sweep's P(win)
            repeat_band="iqr",
            p_win=p_win,
        )

    # ---------------------------------------------------------------- export
    def points(self) -> list[dict[str, Any]]:
        spec = self.spec
        out = []
        for index in sorted(self.summaries):
            summary = self.summaries[index]
            seed_index = index % spec.seeds
            lr_index = (index // spec.seeds) % len(spec.lrs)
            entry = index // (spec.seeds * len(spec.lrs))
            out.append(
                {
                    "optimizer": spec.entries[entry].name,
                    "lr": spec.lrs[lr_index],
                    "seed": self.scenario.seed + seed_index,
                    "status": summary.status,
                    "metric": _finite_or_none(self.metric_of(summary)),
                    "final_loss": _finite_or_none(summary.final_loss),
                    "best_loss": _finite_or_none(summary.best_loss),
                    "val_loss": _finite_or_none(summary.val_loss),
                    "val_accuracy": _finite_or_none(summary.val_accuracy),
                    "steps_to_target": summary.steps_to_target,
                    "steps": summary.steps,
                    "reason": summary.reason,
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        curves = {}
        tuned = {}
        for entry, item in enumerate(spec.entries):
            curves[item.name] = [
                {
                    "lr": cell.lr,
                    "runs": cell.runs,
                    "median": _finite_or_none(cell.spread.median),
                    "q25": _finite_or_none(cell.spread.q25),
                    "q75": _finite_or_none(cell.spread.q75),
                    "diverged": cell.diverged,
                }
                for cell in self.row(entry)
                if cell.runs
            ]
            best = self.tuned(entry)
            tuned[item.name] = {
                "optimizer": item.optimizer,
                "hparams": dict(item.hparams, lr=best.lr),
                "lr": best.lr,
                "median": _finite_or_none(best.spread.median),
                "q25": _finite_or_none(best.spread.q25),
                "q75": _finite_or_none(best.spread.q75),
                "width_decades": best.width_decades,
                "diverged": best.diverged,
            }
        return {
            "scenario": self.scenario.name or self.scenario.title,
            "seed": self.scenario.seed,
            "fingerprint": self.fingerprint,
            "metric": spec.metric,
            "points": self.points(),
            "curves": curves,
            "tuned": tuned,
            "comparison": self.comparison(),
        }


def write_sweep_json(record: SweepRecord, path: Path) -> None:
    from tui_optim.engine.atomic import atomic_write

    with atomic_write(path) as stream:
        json.dump(record.to_json(), stream, indent=1, allow_nan=False)
        stream.write("\n")


CSV_COLUMNS = (
    "optimizer",
    "lr",
    "seed",
    "status",
    "metric",
    "final_loss",
    "best_loss",
    "val_loss",
    "val_accuracy",
    "steps_to_target",
    "steps",
)


def write_sweep_csv(record: SweepRecord, path: Path) -> None:
    """One row per run (the JSON's points; empty where a value does not apply)."""
    from tui_optim.engine.atomic import atomic_write

    with atomic_write(path) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for point in record.points():
            writer.writerow(
                ["" if point[key] is None else repr(point[key]) if isinstance(point[key], float)
                 else point[key] for key in CSV_COLUMNS]
            )
