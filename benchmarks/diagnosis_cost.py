"""Cost of the full-training-set evaluation and the diagnosis against the whole race.

One headless race per scenario in this process, with one BLAS thread as the engine process
runs it (race/process.py); the recorder adds up the CPU seconds spent evaluating (whole
training set, sharpness) and diagnosing, and the ratio to the race's own CPU time is
printed. The budget is 10% of the race.

It also prints what bounds the ratio: the cost of one evaluation in epochs of training.
An evaluation is a forward pass over the whole training set, about a third of the
arithmetic of an epoch of training (forward, backward, update), so at the cadence the
recorder keeps (once an epoch, or every few epochs when a race has far more epochs than
its 200 points) the evaluation alone costs about ``cost / (epochs between evaluations +
cost)`` of the race, however it is coded.

    .venv/bin/python benchmarks/diagnosis_cost.py [scenario ...]   (default: iris_grid digits_grid)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import NamedTuple

# One BLAS thread, as in the engine process (tui_optim.race.process); set before NumPy
# loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario

BUDGET = 0.10


class Measured(NamedTuple):
    race: float  # CPU seconds of the whole headless race
    evaluation: float  # of its whole-training-set evaluations
    diagnosis: float  # of its sharpness estimates and monitors
    evaluations: int  # evaluations of one lockstep group (history points per racer)
    epochs: float


def measure(name: str) -> Measured:
    """CPU seconds of one headless run and of its evaluations and diagnosis."""
    scenario = load_scenario(name)
    race = Race(scenario)
    start = time.process_time()
    while race.state == "running":
        race.advance(0.2)
        race.snapshot()
    total = time.process_time() - start
    groups = list(race.groups.values())
    return Measured(
        total,
        race.recorder.evaluation_seconds,
        race.recorder.diagnosis_seconds,
        sum(group.evaluations for group in groups) // max(len(groups), 1),
        float(scenario.epochs or 0),
    )


def main(names: list[str]) -> int:
    worst = 0.0
    for name in names or ["iris_grid", "digits_grid"]:
        m = measure(name)
        ratio = (m.evaluation + m.diagnosis) / m.race
        worst = max(worst, ratio)
        print(
            f"{name}: race {m.race:.2f} s, evaluation {m.evaluation:.3f} s, diagnosis "
            f"{m.diagnosis:.3f} s: {ratio:.1%} of the race (budget {BUDGET:.0%})"
        )
        training = m.race - m.evaluation - m.diagnosis
        if m.evaluations and m.epochs and training > 0:
            per_epoch = training / m.epochs
            cost = m.evaluation / m.evaluations / per_epoch
            between = m.epochs / m.evaluations
            print(
                f"    {m.evaluations} evaluations in {m.epochs:g} epochs (one every "
                f"{between:.2g}); one costs {cost:.2f} epochs of training, so evaluating "
                f"alone takes {cost / (between + cost):.1%} of the race at this cadence"
            )
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", help="built-in scenarios (default: iris_grid digits_grid)"
    )
    sys.exit(main(parser.parse_args().scenarios))
