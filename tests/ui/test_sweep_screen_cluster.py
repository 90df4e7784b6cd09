"""The app's sweep screen on a real Dask cluster (`tui-optim SWEEP --workers N` or
`--scheduler ADDRESS`): the blocks run as tasks on the cluster and the screen fills in as
with local processes; an unreachable scheduler is the screen's one-line failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from local_clusters import local_cluster
from sweep_scenarios import iris_sweep

pytest.importorskip("distributed")

from tui_optim.race.cluster import ClusterRequest
from tui_optim.race.sweep import plan_blocks, run_blocks
from tui_optim.results.sweep import SweepRecord
from tui_optim.scenario import parse_scenario
from tui_optim.ui.app import TuiOptimApp
from tui_optim.ui.screens.sweep import SweepScreen
from tui_optim.ui.testing import sweep_finished

SWEEP = iris_sweep(
    title="tiny on a cluster", epochs=3, optimizers='["sgd", "adam"]', lr="[0.01, 0.1]", seeds=3
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster(1) as local:
        yield local


async def test_the_sweep_screen_runs_its_blocks_on_the_cluster(cluster: Any) -> None:
    scenario = parse_scenario(SWEEP, name="tiny")
    request = ClusterRequest(scheduler=cluster.scheduler_address)
    app = TuiOptimApp(scenario, test_mode=True, cluster=request)
    async with app.run_test(size=(100, 30)) as pilot:
        await sweep_finished(pilot)
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        assert screen.failure is None and screen.record.complete
        assert "12/12 runs" in str(screen.query_one("#sweep-title").render())
        results = screen.record.to_json()
    # The cluster did the work: its scheduler ran the blocks' tasks.
    blocks = cluster.scheduler.task_prefixes["run_block_here"]
    assert blocks.all_durations["compute"] > 0
    local = SweepRecord(scenario, fingerprint=results["fingerprint"])
    for result in run_blocks(scenario, plan_blocks(scenario.sweep)):
        local.add(result)
    assert results == local.to_json()


async def test_an_unreachable_scheduler_is_the_screens_one_line_failure() -> None:
    scenario = parse_scenario(SWEEP, name="tiny")
    request = ClusterRequest(scheduler="tcp://127.0.0.1:1", timeout=0.5)
    app = TuiOptimApp(scenario, test_mode=True, cluster=request)
    async with app.run_test(size=(100, 30)) as pilot:
        await sweep_finished(pilot, timeout=30)
        screen = app.screen
        assert isinstance(screen, SweepScreen) and screen.failure is not None
        assert screen.failure.startswith("could not reach the Dask scheduler at tcp://127.0.0.1:1")
        assert "failed: could not reach" in str(screen.query_one("#sweep-title").render())


def test_the_cluster_flags_of_the_app_are_for_sweeps(capsys: pytest.CaptureFixture[str]) -> None:
    from tui_optim.cli import main

    assert main(["peaks_zoo", "--workers", "2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "peaks_zoo is not a sweep" in lines[0]
    assert main(["peaks_sweep", "--workers", "0"]) == 2
    assert "--workers must be an integer in [1, 256]" in capsys.readouterr().err
