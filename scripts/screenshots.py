"""Write screenshots/*.svg of the main views, in the app's deterministic test mode.

Usage: python scripts/screenshots.py [--out screenshots] [--scenario NAME]
Each view runs the (shortened) scenario to the end first, so the SVGs are reproducible.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.pilot import Pilot

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.testing import caught_up, settle, short_scenario

Steps = Callable[[Pilot[int]], Awaitable[None]]


async def press(pilot: Pilot[int], *keys: str) -> None:
    await pilot.press(*keys)
    await caught_up(pilot)


#: name -> (scenario, size, what to do after the race settled)
VIEWS: dict[str, tuple[str | None, tuple[int, int], Steps | None]] = {
    "race-160x50": (None, (160, 50), None),
    "race-80x24": (None, (80, 24), None),
    "help": (None, (120, 40), lambda pilot: press(pilot, "question_mark")),
    "add-racer": (None, (120, 40), lambda pilot: press(pilot, "a")),
    "surface": ("peaks_zoo", (120, 40), lambda pilot: press(pilot, "v")),
    "grid": ("iris_grid", (160, 50), lambda pilot: press(pilot, "g")),
    "leaderboard": ("iris_grid_20", (120, 40), lambda pilot: press(pilot, "b")),
    "detail": (None, (120, 40), lambda pilot: press(pilot, "enter")),
    "inspector": ("peaks_zoo", (120, 40), lambda pilot: inspect(pilot)),
    "replay": ("peaks_zoo", (120, 40), lambda pilot: scrub_back(pilot)),
}


async def inspect(pilot: Pilot[int]) -> None:
    """The surface with Adam's step inspected."""
    await press(pilot, "v", "i", "right_square_bracket", "right_square_bracket")
    await press(pilot, "right_square_bracket", "right_square_bracket")


async def scrub_back(pilot: Pilot[int]) -> None:
    """The surface scrubbed back to step 4 of 10 (the live race, finished: as in a replay)."""
    await press(pilot, "v")
    await press(pilot, "left", "left", "left", "left", "left", "left")


async def shoot(name: str, out: Path, scenario_name: str | None, epochs: int) -> Path:
    scenario_request, size, steps = VIEWS[name]
    scenario = short_scenario(scenario_request or scenario_name or _default(), epochs=epochs)
    app = TuiOptimApp(scenario, test_mode=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if steps is not None:
            await steps(pilot)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def _default() -> str:
    from tui_optim.scenario import DEFAULT_SCENARIO

    return DEFAULT_SCENARIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--scenario", default=None, help="scenario for the race views")
    parser.add_argument("--epochs", type=int, default=30, help="epochs to run before the shot")
    parser.add_argument(
        "views", nargs="*", help=f"views to write (default all: {', '.join(VIEWS)})"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.views or list(VIEWS):
        path = asyncio.run(shoot(name, args.out, args.scenario, args.epochs))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
