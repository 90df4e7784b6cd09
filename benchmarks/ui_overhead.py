"""What the app costs the race, measured in one run (ratios, never timed assertions).

1. Throughput: the iris grid (24 racers) for ``--seconds`` with the app attached (headless
   Textual app at 160x50, redrawing as a user would see it) vs the same race watched by a
   bare record. Target: with the app >= 80% of without.
2. Key press to visible change while that race runs: space (pause/resume) until the header
   shows the new state, over ``--presses`` presses. Target: p95 <= 100 ms.
3. First frame of ``tui-optim``: from launching the process to the first screen drawn.
   Target <= 1.5 s.
4. Also printed, no target: how busy the app's event loop is while it races, from a probe
   that sleeps 5 ms at a time (the share of time it wakes late, the 99th percentile and the
   longest stall): what a key press waits for before it is even read.

    python benchmarks/ui_overhead.py [--seconds 10] [--presses 30] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.race.process import RaceProcess
from tui_optim.results.record import RaceRecord
from tui_optim.scenario import Scenario, load_scenario


def racer_steps(stats: dict) -> int:
    return sum(s.step for s in stats.values())


def headless_rate(scenario: Scenario, seconds: float) -> float:
    process = RaceProcess(scenario)
    process.start()
    record = RaceRecord()
    try:
        while not record.stats:
            for message in process.poll(0.05):
                record.apply(message)
        before, start = racer_steps(record.stats), time.perf_counter()
        while time.perf_counter() - start < seconds:
            for message in process.poll(0.05):
                record.apply(message)
        return (racer_steps(record.stats) - before) / (time.perf_counter() - start)
    finally:
        process.close()


async def app_figures(scenario: Scenario, seconds: float, presses: int) -> tuple[float, list]:
    from tui_optim.ui.app import TuiOptimApp
    from tui_optim.ui.widgets.race_header import RaceHeader

    app = TuiOptimApp(scenario, pace=None)  # max pace: what the app costs the race
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.model.stats:
            await pilot.pause(0.05)
        before, start = racer_steps(app.model.stats), time.perf_counter()
        stalls = await loop_stalls(seconds)
        rate = (racer_steps(app.model.stats) - before) / (time.perf_counter() - start)
        latencies = []
        header = app.screen.query_one(RaceHeader)
        for _ in range(presses):
            expected = "paused" if app.model.state == "running" else "running"
            pressed = time.perf_counter()
            # Posted like a terminal's key event (pilot.press would wait for the app to go
            # idle, which measures every pending redraw instead of the answer to the key).
            app.simulate_key("space")
            while expected not in str(header.render()):
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - pressed)
            await asyncio.sleep(0.3)
    return rate, latencies, stalls


async def loop_stalls(seconds: float, tick: float = 0.005) -> list[float]:
    """How late a ``tick``-second sleep wakes up, over ``seconds``: the time the app's event
    loop was busy elsewhere (what a key press waits for), one figure per tick."""
    stalls = []
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        await asyncio.sleep(tick)
        stalls.append(time.perf_counter() - now - tick)
    return stalls


def first_frame_seconds() -> float:
    code = textwrap.dedent(
        """
        import sys, time
        from tui_optim.ui.app import TuiOptimApp
        app = TuiOptimApp()
        async def main():
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                print("frame", flush=True)
                app.exit()
        import asyncio
        asyncio.run(main())
        """
    )
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("frame"):
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError("the app drew no frame")
    process.wait(30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds (best counts)")
    args = parser.parse_args()
    scenario = dataclasses.replace(load_scenario("iris_grid"), epochs=1_000_000)
    # Alternated rounds, the best of each kind: on a shared machine other work only ever
    # slows a round down, and alternating exposes both kinds to the same disturbances.
    bare_rates, app_rates, latencies, stalls = [], [], [], []
    for _ in range(args.rounds):
        bare_rates.append(headless_rate(scenario, args.seconds))
        rate, round_latencies, round_stalls = asyncio.run(
            app_figures(scenario, args.seconds, args.presses)
        )
        app_rates.append(rate)
        latencies += round_latencies
        stalls += round_stalls
    bare, with_app = max(bare_rates), max(app_rates)
    print(f"iris grid, {len(scenario.racers)} racers, racer-steps/s")
    print(f"  headless        {bare:12,.0f}")
    print(f"  with the app    {with_app:12,.0f}")
    print(f"  ratio           {with_app / bare:12.0%}   (target >= 80%)")
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"key press to visible change over {len(latencies)} presses:")
    print(
        f"  median {statistics.median(latencies) * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms"
        "   (target p95 <= 100 ms)"
    )
    stalls.sort()
    busy = sum(stalls) / (args.rounds * args.seconds)
    print(
        f"event loop while racing: busy {busy:.0%}, stall p99 "
        f"{stalls[int(0.99 * len(stalls))] * 1e3:.0f} ms, longest {stalls[-1] * 1e3:.0f} ms"
    )
    frames = [first_frame_seconds() for _ in range(3)]
    print(f"first frame: median {statistics.median(frames):.2f} s   (target <= 1.5 s)")


if __name__ == "__main__":
    main()
