"""Soak: the digits grid headless for a long time; resident memory must stay flat.

Runs the race through the real engine process, folding every message into a RaceRecord as
the command line does, and samples the resident memory (RSS) of this process plus the
engine process(es) every few seconds. Reports the growth from the end of the first minute
to the end. Target: < 10% over 30 minutes.

    python benchmarks/soak.py [--minutes 30] [--processes 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.race.process import RaceProcess
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import load_scenario


def rss_mib(pids: list[int]) -> float:
    total = psutil.Process().memory_info().rss
    for pid in pids:
        total += psutil.Process(pid).memory_info().rss
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    scenario = dataclasses.replace(load_scenario("digits_grid"), epochs=1_000_000)
    process = RaceProcess(scenario, processes=args.processes)
    process.start()
    record = RaceRecord()
    start = time.monotonic()
    end = start + args.minutes * 60
    baseline = None
    samples = []
    next_sample = start
    try:
        while time.monotonic() < end:
            for message in process.poll(0.1):
                record.apply(message)
            now = time.monotonic()
            if now >= next_sample:
                next_sample = now + 5.0
                rss = rss_mib(process.pids)
                samples.append((now - start, rss))
                if len(samples) % 12 == 1:
                    print(
                        f"  {now - start:6.0f} s  epoch {record.epoch:7.0f}  RSS {rss:7.1f} MiB",
                        flush=True,
                    )
                if baseline is None and now - start >= 60:
                    baseline = rss
        final = rss_mib(process.pids)
    finally:
        process.close()
    points = sum(len(h) for h in record.histories.values())
    print(
        f"digits grid, {len(record.specs)} racers, {args.minutes:g} min, epoch {record.epoch:.0f}"
    )
    print(f"  history points held: {points}")
    print(f"  RSS at 1 min {baseline or samples[0][1]:.1f} MiB, at the end {final:.1f} MiB")
    growth = final / (baseline or samples[0][1]) - 1
    print(f"  growth {growth:+.1%}   (target < 10%)")


if __name__ == "__main__":
    main()
