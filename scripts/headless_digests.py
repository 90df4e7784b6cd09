"""SHA-256 digests of every built-in scenario's headless results, to compare two commits.

Each scenario runs in a fresh process as a user runs it: a race with
``tui-optim run NAME --headless --json F --csv F``, a sweep with
``tui-optim sweep NAME --json F --csv F``. The script prints one line per scenario:

    NAME  csv=<sha256>  json=<sha256>

Timings differ from run to run, so they are taken out before hashing: every JSON key that
contains "seconds" (at any depth) and every CSV column whose header contains "seconds".
Everything else (losses, steps, events, hyperparameters, ordering) is hashed as written.
The same bits on two commits is then a plain diff:

    python scripts/headless_digests.py > before.txt      # on one commit
    python scripts/headless_digests.py > after.txt       # on the other
    diff before.txt after.txt

Every scenario runs in one engine process (``--processes 1``): with several, the order in
which their events reach the export (``replay.events``) depends on timing, so the JSON of a
many-racer race differs from run to run although every number in it is the same.
``--processes N`` runs them as a user's machine would, for a look at that path.

``--epochs N`` / ``--steps N`` cap every race (both commits must use the same cap); sweeps
have no such override and always run in full. Without a cap all twenty built-ins take a few
minutes on two cores. Names given on the command line restrict the run to those scenarios.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_optim.scenario import builtin_scenarios, load_scenario

TIMING_MARK = "seconds"


def without_timings(value: Any) -> Any:
    """``value`` with every mapping key that contains "seconds" removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if TIMING_MARK not in k}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def json_digest(path: Path) -> str:
    data = without_timings(json.loads(path.read_text(encoding="utf-8")))
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def csv_digest(path: Path) -> str:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows:
        return hashlib.sha256(b"").hexdigest()
    keep = [i for i, name in enumerate(rows[0]) if TIMING_MARK not in name]
    kept = "\n".join(",".join(row[i] for i in keep if i < len(row)) for row in rows)
    return hashlib.sha256(kept.encode("utf-8")).hexdigest()


def run_scenario(name: str, workdir: Path, caps: list[str], processes: list[str]) -> str:
    """Run ``name`` headless into ``workdir`` and return its digest line."""
    json_path, csv_path = workdir / f"{name}.json", workdir / f"{name}.csv"
    is_sweep = load_scenario(name, check=False).sweep is not None
    command = ["sweep", name] if is_sweep else ["run", name, "--headless", *caps]
    command += ["--json", str(json_path), "--csv", str(csv_path), "--quiet", *processes]
    result = subprocess.run(
        [sys.executable, "-m", "tui_optim", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return f"{name}  FAILED exit {result.returncode}: {result.stderr.strip()[-200:]}"
    return f"{name}  csv={csv_digest(csv_path)}  json={json_digest(json_path)}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="built-in scenarios (default: all)")
    parser.add_argument("--epochs", type=int, help="cap every race at N epochs")
    parser.add_argument("--steps", type=int, help="cap every race at N steps")
    parser.add_argument("--processes", type=int, default=1, help="engine processes (1)")
    args = parser.parse_args(argv)
    caps = [] if args.epochs is None else ["--epochs", str(args.epochs)]
    caps += [] if args.steps is None else ["--steps", str(args.steps)]
    processes = ["--processes", str(args.processes)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tui-optim-digests-") as tmp:
        for name in args.names or list(builtin_scenarios()):
            line = run_scenario(name, Path(tmp), caps, processes)
            failed += "FAILED" in line
            print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
