"""Scenario files: the option schema, the TOML parser and the template.

A scenario is a TOML file that validates into frozen dataclasses; every mistake is one line
naming the file, line, key, the bad value and what is allowed. ``schema`` declares every key
(adding one is one declaration there: see its docstring), ``parser`` reads the tables into
the dataclasses, ``budget`` refuses races too large for memory before anything is
allocated, and ``template.toml`` is what ``tui-optim new`` writes.
"""

from tui_optim.scenario.budget import MEMORY_BUDGET_BYTES
from tui_optim.scenario.parser import (
    DEFAULT_SCENARIO,
    DISPLAY_ORDER,
    Claim,
    GridSpec,
    ModelSpec,
    RacerConfig,
    Scenario,
    SurfaceSpec,
    builtin_scenarios,
    check_scenario,
    default_racer_name,
    load_scenario,
    parse_scenario,
    template,
    with_overrides,
)
from tui_optim.scenario.schema import (
    MAX_EPOCHS,
    MAX_RACERS,
    MAX_RACES,
    MAX_REPEATS,
    MAX_STEPS,
    ScenarioError,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "DISPLAY_ORDER",
    "MAX_EPOCHS",
    "MAX_RACERS",
    "MAX_RACES",
    "MAX_REPEATS",
    "MAX_STEPS",
    "MEMORY_BUDGET_BYTES",
    "Claim",
    "GridSpec",
    "ModelSpec",
    "RacerConfig",
    "Scenario",
    "ScenarioError",
    "SurfaceSpec",
    "builtin_scenarios",
    "check_scenario",
    "default_racer_name",
    "load_scenario",
    "parse_scenario",
    "template",
    "with_overrides",
]
