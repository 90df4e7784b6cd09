"""The rooms import each other in one direction only, and the command line stays light.

engine (numerics) imports none of the other rooms; scenario imports the engine; race imports
engine and scenario; results imports race's messages (and engine, scenario); ui and cli sit
on top. Each room's modules are imported in a fresh interpreter and the rooms that got
loaded with them are compared with the rooms that room may use.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

#: room -> the rooms its modules may load (besides itself).
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "scenario": {"engine"},
    "race": {"engine", "scenario"},
    "results": {"engine", "scenario", "race"},
}
ROOMS = ("engine", "scenario", "race", "results", "ui")


def _modules_of(room: str) -> list[str]:
    package = importlib.import_module(f"tui_optim.{room}")
    return [package.__name__] + [
        info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    ]


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


def _rooms_loaded(modules: set[str]) -> set[str]:
    return {
        name.split(".")[1]
        for name in modules
        if name.startswith("tui_optim.") and name.split(".")[1] in ROOMS
    }


def test_each_room_has_modules() -> None:
    assert "tui_optim.engine.mlp" in _modules_of("engine")
    assert "tui_optim.engine.optimizers.base" in _modules_of("engine")
    assert "tui_optim.race.race" in _modules_of("race")
    assert "tui_optim.results.export" in _modules_of("results")
    assert "tui_optim.scenario.parser" in _modules_of("scenario")


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_loads_only_the_rooms_below_it(room: str) -> None:
    modules = _modules_of(room)
    loaded = _modules_after_import("\n".join(f"import {name}" for name in modules))
    assert set(modules) <= loaded
    assert _rooms_loaded(loaded) - {room} <= ALLOWED[room]


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_no_room_below_the_ui_imports_textual(room: str) -> None:
    statement = "\n".join(f"import {name}" for name in _modules_of(room))
    loaded = _modules_after_import(statement)
    ui_modules = sorted(m for m in loaded if m.split(".")[0] in {"textual", "textual_plotext"})
    assert ui_modules == []


def test_the_layering_check_sees_a_violation() -> None:
    """The check itself can fail: the UI room loads rooms the engine may not."""
    loaded = _modules_after_import("import tui_optim.ui.app")
    assert _rooms_loaded(loaded) - {"engine"} - ALLOWED["engine"]


def test_cli_import_is_light() -> None:
    loaded = _modules_after_import("import tui_optim.cli")
    heavy = sorted(m for m in loaded if m.split(".")[0] in {"textual", "sklearn", "torch"})
    assert heavy == []


def test_the_app_first_frame_does_without_the_engine_and_the_sweep_runner() -> None:
    """The race screen draws before the scenario is parsed: importing it loads neither the
    optimizer registry, the recorder, the race nor the sweep screen (they come later, when
    used)."""
    loaded = _modules_after_import("import tui_optim.ui.app\nimport tui_optim.ui.screens.race")
    late = {
        "tui_optim.engine.optimizers",
        "tui_optim.race.recorder",
        "tui_optim.race.race",
        "tui_optim.results.replay",
        "tui_optim.ui.screens.sweep",
        "sklearn",
        "scipy",
    }
    assert sorted(late & loaded) == []
