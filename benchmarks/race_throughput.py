"""Aggregate racer-steps per second of whole races, measured as ratios in one run.

1. Lockstep: the iris grid (24 racers, 4-8-3 selu, batch 32) stepped as one race vs the same
   24 racers each raced alone, one after another. Target >= 4x.
2. Processes: the digits grid (24 racers, 64-128-64-32-16-10 selu, batch 32) in 2 engine
   processes vs 1, through the real RaceProcess pipe. Target >= 1.5x on a 2-core machine.

    python benchmarks/race_throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.race.process import RaceProcess
from tui_optim.race.race import Race
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import Scenario, load_scenario


def racer_steps(race: Race) -> int:
    return sum(group.step * len(group.racers) for group in race.groups.values())


def lockstep_rate(scenario: Scenario, seconds: float) -> float:
    race = Race(scenario)
    race.advance(0.2)  # warm-up: buffers, first epoch
    before, start = racer_steps(race), time.perf_counter()
    while time.perf_counter() - start < seconds and race.state == "running":
        race.advance(0.1)
    return (racer_steps(race) - before) / (time.perf_counter() - start)


def one_at_a_time_rate(scenario: Scenario, seconds: float) -> float:
    races = [Race(dataclasses.replace(scenario, racers=(config,))) for config in scenario.racers]
    for race in races:
        race.advance(0.02)
    before = sum(racer_steps(race) for race in races)
    start = time.perf_counter()
    share = seconds / len(races)
    for race in races:
        race.advance(share)
    return (sum(racer_steps(race) for race in races) - before) / (time.perf_counter() - start)


def process_rate(scenario: Scenario, processes: int, seconds: float) -> float:
    process = RaceProcess(scenario, processes=processes, snapshot_hz=5.0)
    process.start()
    record = RaceRecord()
    try:
        while record.started is None or record.step == 0:
            for message in process.poll(0.1):
                record.apply(message)
        first = {rid: stats.step for rid, stats in record.stats.items()}
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for message in process.poll(0.1):
                record.apply(message)
        elapsed = time.perf_counter() - start
        done = sum(stats.step - first.get(rid, 0) for rid, stats in record.stats.items())
        return done / elapsed
    finally:
        process.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    iris = dataclasses.replace(load_scenario("iris_grid"), epochs=1_000_000)
    together = lockstep_rate(iris, args.seconds)
    alone = one_at_a_time_rate(iris, args.seconds)
    print(f"iris grid, {len(iris.racers)} racers, racer-steps/s")
    print(f"  lockstep        {together:12,.0f}")
    print(f"  one at a time   {alone:12,.0f}")
    print(f"  lockstep gain   {together / alone:12.2f}x   (target >= 4x)")
    digits = dataclasses.replace(load_scenario("digits_grid"), epochs=1_000_000)
    one = process_rate(digits, 1, args.seconds)
    two = process_rate(digits, 2, args.seconds)
    print(f"digits grid, {len(digits.racers)} racers, racer-steps/s")
    print(f"  1 process       {one:12,.0f}")
    print(f"  2 processes     {two:12,.0f}")
    print(f"  process gain    {two / one:12.2f}x   (target >= 1.5x)")


if __name__ == "__main__":
    main()
