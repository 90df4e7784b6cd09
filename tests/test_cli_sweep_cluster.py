"""`tui-optim sweep` on Dask: the same JSON in one process, in local processes, on a local
Dask cluster of one or two workers, and on a cluster that loses a worker midway; one-line
errors for flags that cannot work. Real subprocesses and real clusters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from sweep_scenarios import iris_sweep

pytest.importorskip("distributed")

def sweep_file(tmp_path: Path, epochs: int) -> Path:
    path = tmp_path / f"sweep_{epochs}.toml"
    text = iris_sweep(
        title="a sweep for clusters",
        epochs=epochs,
        optimizers='["sgd", "adam"]',
        lr="{ from = 1e-3, to = 1.0, points = 8 }",
        seeds=6,
        hidden=8,
        init=None,
        extra='metric = "final_loss"',
    )
    path.write_text(text)
    return path


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui_optim", "sweep", *args, "--quiet"]


def sweep(tmp_path: Path, scenario: Path, name: str, *flags: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        command(str(scenario), "--json", str(out), *flags),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return dict(json.loads(out.read_text()))


def test_the_same_json_in_one_process_local_processes_and_local_clusters(tmp_path: Path) -> None:
    scenario = sweep_file(tmp_path, epochs=150)
    one = sweep(tmp_path, scenario, "one", "--processes", "1")
    assert len(one["points"]) == 2 * 8 * 6
    assert sweep(tmp_path, scenario, "two", "--processes", "2") == one
    assert sweep(tmp_path, scenario, "cluster1", "--workers", "1") == one
    assert sweep(tmp_path, scenario, "cluster2", "--workers", "2") == one


def test_a_cluster_that_loses_a_worker_midway_gives_the_same_json(tmp_path: Path) -> None:
    scenario = sweep_file(tmp_path, epochs=4000)
    reference = sweep(tmp_path, scenario, "reference", "--processes", "1")
    out = tmp_path / "killed.json"
    process = subprocess.Popen(
        [*command(str(scenario), "--json", str(out), "--workers", "2")][:-1],  # progress on
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    # Piped, progress is a line every ~2 s ("12/96 runs ..."): the cluster is up and racing.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            pytest.fail("the sweep ended before a worker could be killed")
        if "/96 runs" in line:
            break
    killed = None
    while killed is None and time.monotonic() < deadline and process.poll() is None:
        # The local cluster's workers are the command's child processes: a busy one is
        # racing a block.
        for child in psutil.Process(process.pid).children(recursive=True):
            if child.cpu_percent(interval=0.05) > 20:
                os.kill(child.pid, signal.SIGKILL)
                killed = child.pid
                break
    _, stderr = process.communicate(timeout=240)
    assert killed is not None, "no busy worker was found to kill"
    assert process.returncode == 0, stderr
    assert json.loads(out.read_text()) == reference


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--scheduler", "localhost:8786"), "tcp://HOST:PORT"),
        (("--scheduler", "tcp://127.0.0.1:1", "--workers", "2"), "exclude each other"),
        (("--workers", "0"), "--workers must be an integer in [1, 256]"),
        (("--dashboard",), "--dashboard goes with --workers"),
        (("--scheduler", "tcp://127.0.0.1:1"), "could not reach the Dask scheduler"),
    ],
)
def test_flags_that_cannot_work_are_one_line_and_exit_2(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    scenario = sweep_file(tmp_path, epochs=5)
    out = tmp_path / "nothing.json"
    result = subprocess.run(
        command(str(scenario), "--json", str(out), *flags),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists()
