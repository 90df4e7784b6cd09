"""Cost of the full-training-set evaluation and the diagnosis against the whole race.

One headless race per scenario in this process; the recorder adds up the seconds spent
evaluating (whole training set, validation, sharpness) and diagnosing, and the ratio to
the race's own clock is printed. The budget is 10% of the race.

    .venv/bin/python benchmarks/diagnosis_cost.py [scenario ...]   (default: iris_grid digits_grid)
"""

from __future__ import annotations

import sys
import time

from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario

BUDGET = 0.10


def measure(name: str) -> tuple[float, float, float]:
    """(race seconds, evaluation seconds, diagnosis seconds) of one headless run."""
    race = Race(load_scenario(name))
    start = time.perf_counter()
    while race.state == "running":
        race.advance(0.2)
        race.snapshot()
    total = time.perf_counter() - start
    return total, race.recorder.evaluation_seconds, race.recorder.diagnosis_seconds


def main(names: list[str]) -> int:
    worst = 0.0
    for name in names or ["iris_grid", "digits_grid"]:
        total, evaluation, diagnosis = measure(name)
        ratio = (evaluation + diagnosis) / total
        worst = max(worst, ratio)
        print(
            f"{name}: race {total:.2f} s, evaluation {evaluation:.3f} s, diagnosis "
            f"{diagnosis:.3f} s: {ratio:.1%} of the race (budget {BUDGET:.0%})"
        )
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
