"""Cost of the full-training-set evaluation and the diagnosis against the whole race.

One headless race per scenario in this process, with one BLAS thread as the engine process
runs it (race/process.py); the recorder adds up the CPU seconds spent evaluating (whole
training set, sharpness) and diagnosing, and the ratio to the race's own CPU time is
printed. The budget is 10% of the race.

    .venv/bin/python benchmarks/diagnosis_cost.py [scenario ...]   (default: iris_grid digits_grid)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# One BLAS thread, as in the engine process (tui_optim.race.process); set before NumPy
# loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario

BUDGET = 0.10


def measure(name: str) -> tuple[float, float, float]:
    """(race CPU seconds, evaluation CPU seconds, diagnosis CPU seconds) of one headless run."""
    race = Race(load_scenario(name))
    start = time.process_time()
    while race.state == "running":
        race.advance(0.2)
        race.snapshot()
    total = time.process_time() - start
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", help="built-in scenarios (default: iris_grid digits_grid)"
    )
    sys.exit(main(parser.parse_args().scenarios))
