"""Wall time of every built-in scenario run headless, as a user runs it.

Each scenario runs once through the command line (``tui-optim run NAME --headless --quiet``
in a fresh process, so imports and data loading count). Target: each under 60 s here.

    python benchmarks/builtin_times.py [NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.scenario import builtin_scenarios, load_scenario

TARGET_SECONDS = 60.0


def main(argv: list[str]) -> int:
    names = argv or list(builtin_scenarios())
    slow = 0
    print(f"{'scenario':24s} {'seconds':>8s}  target {TARGET_SECONDS:g} s")
    for name in names:
        # a sweep runs with `tui-optim sweep`, a race with `tui-optim run --headless`
        is_sweep = load_scenario(name, check=False).sweep is not None
        command = ["sweep", name] if is_sweep else ["run", name, "--headless"]
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui_optim", *command, "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
        missed = seconds > TARGET_SECONDS
        slow += missed
        print(f"{name:24s} {seconds:8.1f}" + ("  MISSED" if missed else ""), flush=True)
    print(f"{slow} scenario(s) over {TARGET_SECONDS:g} s")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="built-in scenarios (default: all)")
    sys.exit(main(parser.parse_args().scenarios))
