"""`tui-optim sweep` on Dask: the same JSON in one process, in local processes, on a local
Dask cluster of one or two workers, and on a cluster that loses a worker midway; one-line
errors for flags that cannot work. Real worker processes and real clusters; one cluster of
two workers serves the module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from local_clusters import local_cluster
from sweep_scenarios import iris_sweep

pytest.importorskip("distributed")

from tui_optim.cli import main

#: Epochs of the sweeps compared: 96 short runs, six blocks of 16.
EPOCHS = 300


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A LocalCluster of two worker processes the sweeps reach with --scheduler; a worker
    that is killed is restarted by its nanny."""
    with local_cluster(2) as local:
        yield local


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sweep's JSON in one process."""
    folder = tmp_path_factory.mktemp("reference")
    return sweep(folder, sweep_file(folder, EPOCHS), "one", "--processes", "1")


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
    """The sweep's JSON, run by the command line in this process (no interpreter to start,
    nothing to import again)."""
    out = tmp_path / f"{name}.json"
    assert main(["sweep", str(scenario), "--json", str(out), "--quiet", *flags]) == 0
    return dict(json.loads(out.read_text()))


def test_the_same_json_in_one_process_local_processes_and_local_clusters(
    tmp_path: Path, cluster: Any, reference: dict[str, Any]
) -> None:
    scenario = sweep_file(tmp_path, EPOCHS)
    assert len(reference["points"]) == 2 * 8 * 6
    assert sweep(tmp_path, scenario, "two", "--processes", "2") == reference
    assert sweep(tmp_path, scenario, "cluster1", "--workers", "1") == reference
    address = cluster.scheduler_address
    assert sweep(tmp_path, scenario, "cluster2", "--scheduler", address) == reference


def test_a_cluster_that_loses_a_worker_midway_gives_the_same_json(
    tmp_path: Path, cluster: Any, reference: dict[str, Any]
) -> None:
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        workers = list(client.run(os.getpid).values())
    scenario = sweep_file(tmp_path, EPOCHS)
    out = tmp_path / "killed.json"
    process = subprocess.Popen(
        [*command(str(scenario), "--json", str(out), "--scheduler", cluster.scheduler_address)][
            :-1
        ],  # progress on
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    # Piped, progress is a line every ~2 s ("0/96 runs ..." first): the sweep has started.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            pytest.fail("the sweep ended before a worker could be killed")
        if "/96 runs" in line:
            break
    killed = None
    while killed is None and time.monotonic() < deadline and process.poll() is None:
        for pid in workers:
            if psutil.Process(pid).cpu_percent(interval=0.02) > 20:  # racing a block
                os.kill(pid, signal.SIGKILL)
                killed = pid
                break
    _, stderr = process.communicate(timeout=120)
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
        (
            ("--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0.5"),
            "could not reach the Dask scheduler at tcp://127.0.0.1:1 within 0.5 s",
        ),
    ],
)
def test_flags_that_cannot_work_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], message: str
) -> None:
    scenario = sweep_file(tmp_path, epochs=5)
    out = tmp_path / "nothing.json"
    # Without --quiet: no progress line comes before the error.
    assert main(["sweep", str(scenario), "--json", str(out), *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists()
