"""``tui-optim [SCENARIO]`` opens the app; ``tui-optim replay FILE`` replays a results file
in it."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui_optim.cli.common import UsageError, cluster_request, load


def command_app(options: argparse.Namespace) -> int:
    cluster = cluster_request(options)
    if options.scenario is not None:
        from tui_optim.scenario import builtin_scenarios

        if options.scenario not in builtin_scenarios() and not Path(options.scenario).exists():
            load(options.scenario, check=False)  # the one-line "no such scenario" error
        if cluster is not None and load(options.scenario, check=False).sweep is None:
            raise UsageError(
                f"--scheduler and --workers run a sweep's blocks, and {options.scenario} is "
                f"not a sweep (`tui-optim run {options.scenario} --workers N` races on Dask)"
            )
    from tui_optim.ui.app import run_app

    return run_app(options.scenario, paused=options.paused, cluster=cluster)


def command_replay(options: argparse.Namespace) -> int:
    from tui_optim.results.replay import ReplayError, load_record

    try:
        load_record(options.results)  # a bad file is one line here, not a screen
    except ReplayError as error:
        raise UsageError(str(error)) from None
    from tui_optim.ui.app import run_app

    return run_app(replay=options.results)
