"""How a race is split over engine processes (or Dask tasks): by whole lockstep groups.

Racers of one repeat with one batch size form a lockstep group: they step on the same
batches at the same time. A split keeps every group whole in one process, so what a racer's
verdict compares it with (the best racer of its group, at the same step) does not depend on
the number of processes or on how far other groups had got. Light on purpose: the app and
the command line import it without loading the engine.
"""

from __future__ import annotations

from tui_optim.scenario import Scenario


def effective_batch_size(scenario: Scenario, racer_batch_size: int | None) -> int | None:
    """The batch size a racer trains with: its own (0 meaning the full batch, None) or else
    the scenario's."""
    if racer_batch_size is None:
        return scenario.batch_size
    return racer_batch_size or None


def lockstep_groups(scenario: Scenario) -> list[int]:
    """For each racer of each repeat (repeat-major, as racer ids count), the ordinal of its
    lockstep group: racers of one repeat with one batch size share a group.

    A race split over processes keeps every group whole in one process: a racer's verdict
    compares it with the best racer of its group, at the same step, so it does not depend
    on how the race was split or on how far other groups had got when it was given."""
    ordinals: dict[tuple[int, int | None], int] = {}
    groups = []
    for repeat in range(scenario.repeats):
        for config in scenario.racers:
            size = effective_batch_size(scenario, config.batch_size)
            groups.append(ordinals.setdefault((repeat, size), len(ordinals)))
    return groups


def group_count(scenario: Scenario) -> int:
    """How many lockstep groups the scenario's race has: the most processes it splits over."""
    return max(lockstep_groups(scenario), default=0) + 1
