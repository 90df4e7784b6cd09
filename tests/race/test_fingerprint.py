"""The fingerprint covers everything that determines a race, and nothing that does not."""

from __future__ import annotations

import dataclasses

from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario

SURFACES = ("peaks_zoo", "peaks_learning_rates", "peaks_local_minima", "rosenbrock", "beale")


def test_built_in_surface_scenarios_have_distinct_fingerprints() -> None:
    prints = {name: Race(load_scenario(name)).fingerprint for name in SURFACES}
    assert len(set(prints.values())) == len(SURFACES), prints


def test_a_hyperparameter_changes_it_and_a_name_does_not() -> None:
    scenario = load_scenario("peaks_zoo")
    first = scenario.racers[0]
    faster = dataclasses.replace(first, hparams={**first.hparams, "lr": 0.2})
    renamed = dataclasses.replace(first, name="another name", colour="#123456")
    base = Race(scenario).fingerprint
    changed = dataclasses.replace(scenario, racers=(faster, *scenario.racers[1:]))
    same = dataclasses.replace(scenario, racers=(renamed, *scenario.racers[1:]), title="x")
    assert Race(changed).fingerprint != base
    assert Race(same).fingerprint == base
    assert Race(dataclasses.replace(scenario, steps=11)).fingerprint != base


def test_split_processes_agree_on_it() -> None:
    scenario = load_scenario("peaks_zoo")
    assert Race(scenario, (0, 2)).fingerprint == Race(scenario, (1, 2)).fingerprint
