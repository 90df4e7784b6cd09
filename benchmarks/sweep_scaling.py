"""The sweep of sweep_throughput.py in local worker processes and on a local Dask cluster,
1 and 2 of each, with the start-up timed apart from the work.

Start-up: from nothing to every worker ready to run a block (processes started, tui-optim
imported, the data loaded and the model built: a local worker's WorkerReady; on the
cluster, the LocalCluster up and every worker's copy of the problem built). Work: from then
to the last block's result. Each configuration runs ``--repeats`` times; the median and the
range (min-max) are printed, as other work on the machine moves single figures.

CPU: the workers' CPU seconds during the work (what the work cost, whatever else the machine
ran); balance: that CPU over the busiest worker's, the speed-up free cores would give at best.

Targets (on the work): 2 workers >= 1.7x the throughput of 1 worker (on 2 cores), and the
cluster within 15% of the local processes on the same number of cores.

    python benchmarks/sweep_scaling.py [--epochs 100] [--repeats 3]

``--epochs 400`` makes the sweep four times longer (the 1080-run sweep at 100 epochs is
about three seconds of work on one core).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import EPOCHS, RUNS, SCENARIO

from tui_optim.race.cluster import ClusterRequest, DaskPool
from tui_optim.race.sweep import (
    BlockResult,
    SweepProcesses,
    WorkerFailed,
    WorkerReady,
    plan_blocks,
    problem_for,
    run_block_here,
)
from tui_optim.scenario import Scenario, parse_scenario

Figures = tuple[float, float, list[float]]


def local_processes(scenario: Scenario, count: int) -> Figures:
    """(start-up, work) seconds of the sweep in ``count`` local worker processes, and each
    worker's CPU seconds during the work."""
    import psutil

    assert scenario.sweep is not None
    blocks = plan_blocks(scenario.sweep)
    started = time.perf_counter()
    pool = SweepProcesses(scenario, blocks, count)
    pool.start()
    ready = 0
    ready_at = started
    results = 0
    try:
        while results < len(blocks):
            for message in pool.poll(0.01):
                if isinstance(message, WorkerReady):
                    ready += 1
                    if ready == pool.count:
                        ready_at = time.perf_counter()
                        workers = [psutil.Process(child.pid) for child in pool._children]
                        before = [cpu_seconds(worker) for worker in workers]
                elif isinstance(message, BlockResult):
                    results += 1
                elif isinstance(message, WorkerFailed):
                    raise RuntimeError(message.message)
        finished = time.perf_counter()
        after = [cpu_seconds(worker) for worker in workers]
    finally:
        pool.close()
    cpu = [end - start for start, end in zip(before, after, strict=True)]
    return ready_at - started, finished - ready_at, cpu


def cpu_seconds(process: Any) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def cluster(scenario: Scenario, workers: int) -> Figures:
    """(start-up, work) seconds of the sweep on a LocalCluster of ``workers`` processes,
    and each worker's CPU seconds during the work."""
    import functools

    assert scenario.sweep is not None
    blocks = plan_blocks(scenario.sweep)
    started = time.perf_counter()
    with DaskPool(ClusterRequest(workers=workers)) as pool:
        pool.client.wait_for_workers(workers)
        # What each worker's first block would do anyway: import tui-optim, build the problem.
        pool.client.run(problem_for, scenario)
        ready_at = time.perf_counter()
        before = pool.client.run(time.process_time)
        unit = functools.partial(run_block_here, scenario)
        done = sum(1 for _ in pool.map_unordered(unit, blocks))
        finished = time.perf_counter()
        after = pool.client.run(time.process_time)
    assert done == len(blocks)
    cpu = [after[worker] - before[worker] for worker in before]
    return ready_at - started, finished - ready_at, cpu


def measure(label: str, run: Callable[[], Figures], repeats: int) -> tuple[float, float]:
    """Median work seconds and median work CPU seconds (all workers) over ``repeats`` runs,
    printed with their ranges, the start-up's, and the balance: the work's CPU over the
    busiest worker's, the speed-up free cores would give at best."""
    startups, works, cpus, balances = [], [], [], []
    for _ in range(repeats):
        startup, work, cpu = run()
        startups.append(startup)
        works.append(work)
        cpus.append(sum(cpu))
        balances.append(sum(cpu) / max(cpu))
    startup, work, cpu = (statistics.median(v) for v in (startups, works, cpus))
    print(
        f"  {label:20} start-up {startup:5.2f} s ({min(startups):.2f}-{max(startups):.2f})  "
        f"work {work:6.2f} s ({min(works):.2f}-{max(works):.2f}) {RUNS / work:6.1f} runs/s  "
        f"CPU {cpu:6.2f} s ({min(cpus):.2f}-{max(cpus):.2f})  "
        f"balance {statistics.median(balances):.2f}",
        flush=True,
    )
    return work, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    text = SCENARIO.replace(f"epochs = {EPOCHS}\n", f"epochs = {args.epochs}\n", 1)
    scenario = parse_scenario(text, name="sweep_scaling")
    assert scenario.sweep is not None
    blocks = len(plan_blocks(scenario.sweep))
    print(f"{RUNS} runs x {args.epochs} epochs in {blocks} blocks, {args.repeats} repeats")
    work, cpu = {}, {}
    for label, run in (
        ("1 process", lambda: local_processes(scenario, 1)),
        ("2 processes", lambda: local_processes(scenario, 2)),
        ("cluster, 1 worker", lambda: cluster(scenario, 1)),
        ("cluster, 2 workers", lambda: cluster(scenario, 2)),
    ):
        work[label], cpu[label] = measure(label, run, args.repeats)
    scaling = work["cluster, 1 worker"] / work["cluster, 2 workers"]
    print(f"work, 2 workers vs 1: {scaling:.2f}x the throughput (target >= 1.7x)")
    local = work["1 process"] / work["2 processes"]
    print(f"work, 2 processes vs 1: {local:.2f}x the throughput")
    for cores, local_label, cluster_label in (
        (1, "1 process", "cluster, 1 worker"),
        (2, "2 processes", "cluster, 2 workers"),
    ):
        ratio = work[cluster_label] / work[local_label]
        cpu_ratio = cpu[cluster_label] / cpu[local_label]
        print(
            f"work, cluster vs local processes on {cores} core(s): {ratio:.2f}x the time "
            f"(target <= 1.15x), {cpu_ratio:.2f}x the CPU"
        )


if __name__ == "__main__":
    main()
