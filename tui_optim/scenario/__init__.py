"""Scenario files: the option schema, the TOML parser and the template.

A scenario is a TOML file that validates into the frozen dataclasses below; every mistake is
one line naming the file, line, key, the bad value and what is allowed.
"""

from tui_optim.scenario.parser import (
    DEFAULT_SCENARIO,
    DISPLAY_ORDER,
    MAX_EPOCHS,
    MAX_RACERS,
    MAX_RACES,
    MAX_REPEATS,
    MAX_STEPS,
    Claim,
    GridSpec,
    ModelSpec,
    RacerConfig,
    Scenario,
    ScenarioError,
    SurfaceSpec,
    builtin_scenarios,
    check_scenario,
    default_racer_name,
    load_scenario,
    parse_scenario,
    template,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "DISPLAY_ORDER",
    "MAX_EPOCHS",
    "MAX_RACERS",
    "MAX_RACES",
    "MAX_REPEATS",
    "MAX_STEPS",
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
]
