"""The engine never imports Textual, and the command line stays light until it needs more."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import tui_optim.engine


def _engine_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(tui_optim.engine.__path__, prefix="tui_optim.engine.")
    ]


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


def test_engine_has_modules() -> None:
    modules = _engine_modules()
    assert "tui_optim.engine.mlp" in modules
    assert "tui_optim.engine.optimizers.base" in modules


def test_engine_never_imports_textual() -> None:
    statement = "\n".join(f"import {name}" for name in _engine_modules())
    loaded = _modules_after_import(statement)
    assert "tui_optim.engine.mlp" in loaded
    ui_modules = sorted(m for m in loaded if m.split(".")[0] in {"textual", "textual_plotext"})
    assert ui_modules == []


def test_cli_import_is_light() -> None:
    loaded = _modules_after_import("import tui_optim.cli")
    heavy = sorted(m for m in loaded if m.split(".")[0] in {"textual", "sklearn", "torch"})
    assert heavy == []
