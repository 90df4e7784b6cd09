"""Control characters from a scenario (racer names, titles, keys) are shown escaped by the
command line and the app; they never reach the terminal raw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.testing import settle

NAME = "\x1b[31mRED\x1b]0;TITLE\x07 [bold]x"
SCENARIO = (
    'title = "T\\u001b]0;EVIL\\u0007"\nepochs = 1\n[surface]\nfunction = "rosenbrock"\n'
    '[[racer]]\nname = "\\u001b[31mRED\\u001b]0;TITLE\\u0007 [bold]x"\noptimizer = "adam"\n'
)


def tui_optim(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui_optim", *args], capture_output=True, cwd=cwd, timeout=60
    )


def test_printable_escapes_control_characters_only() -> None:
    from tui_optim.engine.errors import printable

    assert printable(NAME) == "\\x1b[31mRED\\x1b]0;TITLE\\x07 [bold]x"
    assert printable("a\x00b\nc\x7f\x85é") == "a\\x00b\\nc\\x7f\\x85é"
    plain = "adam lr=0.01 é ü"
    assert printable(plain) is plain


def test_the_headless_leaderboard_and_check_escape_names_and_keys(tmp_path: Path) -> None:
    (tmp_path / "esc.toml").write_text(SCENARIO)
    result = tui_optim("run", "esc.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert b"\\x1b[31mRED\\x1b]0;TITLE\\x07 [bold]x" in result.stdout  # no markup applied
    checked = tui_optim("check", "esc.toml", cwd=tmp_path)
    assert checked.returncode == 0 and b"\x1b" not in checked.stdout
    (tmp_path / "key.toml").write_text('"a\\u0000\\u001b[2J" = 1\ntitle = "x"\n')
    refused = tui_optim("check", "key.toml", cwd=tmp_path)
    assert refused.returncode == 2
    assert b"\x00" not in refused.stderr and b"\x1b" not in refused.stderr
    assert b"a\\x00\\x1b[2J" in refused.stderr


async def test_the_app_shows_names_and_titles_escaped(tmp_path: Path) -> None:
    path = tmp_path / "esc.toml"
    path.write_text(SCENARIO)
    app = TuiOptimApp(path, test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "\x1b" not in app.title and "\\x1b]0;EVIL" in app.title
        (spec,) = app.model.specs.values()
        assert spec.name == "\\x1b[31mRED\\x1b]0;TITLE\\x07 [bold]x"
        assert "\x1b" not in app.model.started.title
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "RED" in screen
