"""The command line as a user runs it: a real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from tui_optim.cli import main
from tui_optim.cli.run import default_processes
from tui_optim.scenario import load_scenario


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui_optim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


# Every command and the options a user reaches for, as `tui-optim COMMAND --help` lists them.
COMMAND_OPTIONS = {
    "run": (
        "--headless",
        "--epochs",
        "--steps",
        "--seed",
        "--json",
        "--csv",
        "--weights",
        "--processes",
        "--quiet",
        "--rank-by",
    ),
    "sweep": ("--json", "--csv", "--quiet", "--processes", "--scheduler", "--workers", "--race"),
    "list": ("scenarios", "optimizers", "datasets", "surfaces"),
    "check": ("scenario",),
    "new": ("file", "--force"),
    "serve": ("scenario", "--host", "--port"),
    "replay": ("results",),
}


def test_help_names_every_command_and_the_app_options() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tui-optim")
    for option in ("scenario", "--paused", "--help"):
        assert option in result.stdout, option
    named = re.search(r"Commands:([^(]*)\(", result.stdout)
    assert named is not None, result.stdout
    assert [c.strip() for c in named.group(1).split(",")] == list(COMMAND_OPTIONS)


@pytest.mark.parametrize("command", COMMAND_OPTIONS)
def test_each_command_help_lists_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: tui-optim {command}"), text
    for option in COMMAND_OPTIONS[command]:
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", text), (command, option)


def test_headless_run_writes_json_csv_and_loadable_weights(tmp_path: Path) -> None:
    result = run(
        "run",
        "iris_131",
        "--headless",
        "--epochs",
        "5",
        "--json",
        "out.json",
        "--csv",
        "out.csv",
        "--weights",
        "weights",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "fingerprint" in result.stdout  # the leaderboard's title
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["scenario"] == "iris_131" and len(document["racers"]) == 3
    racer = document["racers"][0]
    assert set(racer) >= {
        "name",
        "slug",
        "optimizer",
        "hparams",
        "status",
        "events",
        "final",
        "best_loss",
        "time_to_target",
        "history",
    }
    assert racer["history"]["epoch"][-1] == 5.0
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0].startswith("racer,slug,optimizer") and len(rows) > 3
    from tui_optim.engine.init import load_weights
    from tui_optim.engine.mlp import MLP

    arrays = load_weights(tmp_path / "weights" / f"{racer['slug']}.npz", MLP([1, 3, 1]))
    assert arrays["W1"].shape == (1, 3) and np.isfinite(arrays["W2"]).all()


@pytest.mark.parametrize("terminal_columns", [None, 70])
def test_the_leaderboard_never_cuts_a_number(tmp_path: Path, terminal_columns: int | None) -> None:
    """A pipe has no width: Rich squeezed the table into 80 columns and cut numbers to
    "8.234e-…". A terminal too narrow for the table shortens names, never numbers."""
    env = None
    if terminal_columns is not None:  # Rich takes FORCE_COLOR for a terminal, COLUMNS as its width
        env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": str(terminal_columns)}
    command = ["run", "quickstart", "--epochs", "20", "--quiet", "--json", "out.json"]
    result = subprocess.run(
        [sys.executable, "-m", "tui_optim", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    screen = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    racers = json.loads((tmp_path / "out.json").read_text())["racers"]
    lines = [line for line in screen.splitlines() if re.match(r"│ \d ", line)]
    assert len(lines) == len(racers)
    final = {f"{racer['final']['loss']:.4g}" for racer in racers}
    assert final <= {cell.strip() for line in lines for cell in line.split("│")}
    if terminal_columns is None:
        assert "…" not in screen and all(f" {racer['name']} " in screen for racer in racers)
        listing = run("list", "optimizers")
        assert listing.returncode == 0 and "…" not in listing.stdout
        assert "momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False" in listing.stdout
    else:
        assert max(len(line) for line in screen.splitlines()) <= terminal_columns


def test_a_surface_leaderboard_speaks_of_f_and_drops_columns_it_cannot_fill() -> None:
    """On a surface the loss is f at the racer's point; with no target and no validation
    split there is no "to target", "val loss" or "val acc" to show."""
    result = run("run", "saddle", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "ranked by final f; f is final, at each racer's point" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.split("┃") if cell.strip()] == [
        "#",
        "racer",
        "optimizer",
        "status",
        "f",
    ]


def test_same_seed_same_results(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = run(
            "run", "peaks_zoo", "--headless", "--quiet", "--json", f"{name}.json", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert [r["history"]["loss"] for r in a["racers"]] == [
        r["history"]["loss"] for r in b["racers"]
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["frobnicate"], "no such scenario"),
        (["run", "missing.toml", "--headless"], "no such scenario file"),
        (["run", "quickstart", "--bogus"], "unrecognized arguments"),
        (["run", "quickstart", "--json", "/nonexistent/dir/out.json"], "no such directory"),
        (["check", "quickstrat"], "did you mean 'quickstart'"),
        (["list", "things"], "invalid choice"),
        (["run", "quickstart", "--epochs", "0"], "--epochs: must be at least 1"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and err.startswith("tui-optim: ")


def test_check_new_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine.toml"
    assert main(["new", str(target)]) == 0
    assert main(["new", str(target)]) == 2  # no silent overwrite
    assert main(["check", str(target)]) == 0
    assert "My race" in capsys.readouterr().out
    assert main(["list", "optimizers"]) == 0
    out = capsys.readouterr().out
    assert "textbook_adam" in out and "lr=0.001" in out


def test_bad_scenario_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'title = "x"\nepochs = 3\n[data]\nsource = "iris"\n[model]\n'
        'layers = [4, 3]\noutput = "softmax"\nloss = "cross_entropy"\n'
        '[[racer]]\noptimizer = "adma"\n'
    )
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10: racer[1].optimizer: unknown optimizer 'adma' (did you mean 'adam'?)" in err


def test_ctrl_c_writes_results_so_far_and_exits_130(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_optim",
            "run",
            "digits_grid_300",
            "--headless",
            "--json",
            "partial.json",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    engines: list[psutil.Process] = []
    while time.monotonic() < deadline and not engines:
        engines = parent.children(recursive=True)
        time.sleep(0.2)
    assert engines, "the engine process never started"
    # Wait for a progress line past the first epoch, so every racer has recorded points
    # however loaded the machine is. Piped, each line names the figure its leaders show, and
    # none is printed before there is one.
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("epoch "):
            assert re.match(r"epoch [\d.]+ step \d+: leaders by val loss: \S+ lr=\S+ \d", line)
        match = re.match(r"epoch [\d.]+ step (\d+):", line)
        if match and int(match.group(1)) > 50:  # past the first epoch end (45 steps)
            break
    else:
        pytest.fail("no progress line with a step > 0 within a minute")
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    document = json.loads((tmp_path / "partial.json").read_text())
    assert document["racers"] and all(r["history"]["step"] for r in document["racers"])
    _, alive = psutil.wait_procs(engines, timeout=5)
    assert alive == []


def test_run_reports_data_that_does_not_fit_the_model_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` leaves the deep check to the engine process; its verdict is still one line."""
    path = tmp_path / "wrong.toml"
    path.write_text(
        'title = "x"\nepochs = 3\n[data]\nsource = "iris"\n[model]\nlayers = [4, 8, 2]\n'
        '[[racer]]\noptimizer = "adam"\n'
    )
    assert main(["run", str(path), "--headless", "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tui-optim: ")
    assert "model.layers: the output size is 2" in err
    assert not (tmp_path / "out.json").exists()


def test_a_headless_run_spreads_big_races_over_the_cores() -> None:
    """One engine process per 4 racers, at most one per core and one per lockstep group
    (results do not depend on it: tests/race/test_process.py checks 2 processes against 1
    bit for bit, verdicts included)."""
    eight = load_scenario("digits_grid_300")
    assert len(eight.racers) == 8
    assert default_processes(eight, cores=2) == 1  # one seed, one batch size: one group
    seeds = dataclasses.replace(eight, repeats=3)
    assert default_processes(seeds, cores=2) == 2
    assert default_processes(seeds, cores=1) == 1
    assert default_processes(seeds, cores=64) == 3
    assert default_processes(load_scenario("scratch_adam"), cores=8) == 1
