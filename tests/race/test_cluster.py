"""Units of work on real Dask clusters: a LocalCluster, and a scheduler and workers started
from the command line as a user would (`dask scheduler`, `dask worker ADDRESS`)."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui_optim.race.cluster import ClusterError, ClusterRequest, DaskPool, check_address

pytest.importorskip("distributed")

BIN = Path(sys.executable).parent
#: The units below are stdlib functions: a scheduler or worker started from the command
#: line can import them (it could not import this test module).
PAUSE = 0.05


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **options
    )


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A `dask scheduler` process on a free loopback port."""
    port = free_port()
    process = start(
        [
            str(BIN / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        cwd=tmp_path,
    )
    yield f"tcp://127.0.0.1:{port}", process
    process.kill()
    process.wait(10)


def worker(
    address: str, cwd: Path, env: dict[str, str] | None = None, python_options: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        *python_options,
        "-m",
        "distributed.cli.dask_worker",
        address,
        "--nthreads",
        "1",
        "--no-dashboard",
        "--no-nanny",
    ]
    return start(command, cwd=cwd, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    "address", ["localhost:8786", "tcp://host", "tcp://host:0", "tcp://host:99999", "http://h:1"]
)
def test_a_bad_address_is_one_line(address: str) -> None:
    with pytest.raises(ValueError, match="tcp://HOST:PORT") as caught:
        check_address(address)
    assert "\n" not in str(caught.value)


def test_scheduler_and_workers_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        ClusterRequest(scheduler="tcp://127.0.0.1:8786", workers=2)


def test_an_unreachable_scheduler_fails_within_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(ClusterError, match="could not reach the Dask scheduler") as caught:
        DaskPool(ClusterRequest(scheduler=f"tcp://127.0.0.1:{free_port()}", timeout=1.0))
    assert time.monotonic() - started < 15
    assert "\n" not in str(caught.value)


def test_a_local_cluster_runs_every_item_even_when_a_worker_is_killed() -> None:
    with DaskPool(ClusterRequest(workers=2)) as pool:
        assert pool.worker_count == 2
        done: list[int] = []
        for index, _ in pool.map_unordered(time.sleep, [PAUSE] * 60):
            done.append(index)
            if len(done) == 5:
                pids = pool.client.run(os.getpid)
                os.kill(next(iter(pids.values())), signal.SIGKILL)
    assert sorted(done) == list(range(60))


def test_a_scheduler_that_goes_away_ends_the_run_with_one_line(
    scheduler: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    address, process = scheduler
    helper = worker(address, tmp_path)
    try:
        with DaskPool(ClusterRequest(scheduler=address, timeout=3.0)) as pool:
            seen = 0
            with pytest.raises(ClusterError, match="lost the Dask scheduler") as caught:
                for _ in pool.map_unordered(time.sleep, [PAUSE] * 400):
                    seen += 1
                    if seen == 3:
                        process.kill()
            assert 3 <= seen < 400
            assert "\n" not in str(caught.value)
    finally:
        helper.kill()


def test_workers_without_tui_optim_or_with_another_version_are_refused(
    scheduler: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    address, _ = scheduler
    other = tmp_path / "other" / "tui_optim"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text('__version__ = "9.9.9"\n')
    helper = worker(address, tmp_path, env={"PYTHONPATH": str(other.parent)})
    try:
        with pytest.raises(ClusterError, match=r"has tui-optim 9\.9\.9; this run needs"):
            DaskPool(ClusterRequest(scheduler=address, timeout=20.0))
    finally:
        helper.kill()
        helper.wait(10)
    # -S: no site processing, so the editable install of tui-optim is not on the path;
    # the venv's site-packages is given explicitly for Dask itself.
    site = sysconfig.get_paths()["purelib"]
    bare = worker(address, tmp_path, env={"PYTHONPATH": site}, python_options=("-S",))
    try:
        with pytest.raises(ClusterError, match="has no tui-optim"):
            DaskPool(ClusterRequest(scheduler=address, timeout=20.0))
    finally:
        bare.kill()


def test_results_come_back_by_index_and_a_failing_task_raises_its_own_error() -> None:
    with DaskPool(ClusterRequest(workers=1)) as pool:
        assert dict(pool.map_unordered(math.sqrt, [4.0, 9.0])) == {0: 2.0, 1: 3.0}
        with pytest.raises(ValueError, match="math domain error"):
            list(pool.map_unordered(math.sqrt, [-1.0]))
