"""The 1080-run sweep of sweep_throughput.py on a local Dask cluster of 1 and of 2 workers,
and on 1 and 2 local processes, whole process each, in one run.

Targets: 2 workers >= 1.7x the throughput of 1 worker (on 2 cores), and the cluster within
15% of the local-process path on the same number of cores.

    python benchmarks/sweep_scaling.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import RUNS, SCENARIO, timed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "sweep_scaling.toml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        base = [sys.executable, "-m", "tui_optim", "sweep", str(scenario), "--quiet"]
        seconds = {}
        for label, flags in (
            ("1 process", ["--processes", "1"]),
            ("2 processes", ["--processes", "2"]),
            ("cluster, 1 worker", ["--workers", "1"]),
            ("cluster, 2 workers", ["--workers", "2"]),
        ):
            seconds[label], peak, _ = timed(base + flags)
            print(
                f"  {label:20} {seconds[label]:6.2f} s  {RUNS / seconds[label]:7.1f} runs/s  "
                f"peak {peak:5.0f} MiB"
            )
    scaling = seconds["cluster, 1 worker"] / seconds["cluster, 2 workers"]
    print(f"2 workers vs 1: {scaling:.2f}x (target >= 1.7x)")
    for cores in ("1", "2"):
        local = seconds[f"{cores} process" + ("es" if cores == "2" else "")]
        cluster = seconds[f"cluster, {cores} worker" + ("s" if cores == "2" else "")]
        print(f"cluster vs local processes, {cores} core(s): {cluster / local:.2f}x the time "
              "(target <= 1.15x)")


if __name__ == "__main__":
    main()
