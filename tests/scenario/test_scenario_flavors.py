"""The flavor keys of a scenario: the top-level default, a racer's own, a grid's, and the
one-line errors for an unknown flavor or an optimizer that flavor lacks."""

from __future__ import annotations

import pytest

from tui_optim.scenario import ScenarioError, load_scenario, parse_scenario

SURFACE = """\
steps = 3
{top}
[surface]
function = "peaks"

[[racer]]
optimizer = "adam"
{racer}
[[racer]]
optimizer = "rmsprop"
lr = 0.1
"""


def parse(top: str = "", racer: str = "") -> list[tuple[str, str, float]]:
    scenario = parse_scenario(SURFACE.format(top=top, racer=racer), name="zoo")
    return [(r.optimizer, r.flavor, r.hparams["eps"]) for r in scenario.racers]


def test_torch_is_the_default_and_the_top_level_key_sets_every_racer() -> None:
    assert parse() == [("adam", "torch", 1e-8), ("rmsprop", "torch", 1e-8)]
    assert parse(top='flavor = "keras"') == [("adam", "keras", 1e-7), ("rmsprop", "keras", 1e-7)]
    assert parse_scenario(SURFACE.format(top='flavor = "keras"', racer=""), name="z").flavor == (
        "keras"
    )


def test_a_racer_overrides_the_default() -> None:
    assert parse(top='flavor = "keras"', racer='flavor = "torch"') == [
        ("adam", "torch", 1e-8),
        ("rmsprop", "keras", 1e-7),
    ]


def test_keras_spellings_and_keras_only_optimizers() -> None:
    text = SURFACE.format(top='flavor = "keras"', racer="beta_1 = 0.8\nepsilon = 1e-5\n")
    text += '\n[[racer]]\noptimizer = "ftrl"\nl1_regularization_strength = 0.01\n'
    racers = parse_scenario(text, name="z").racers
    assert racers[0].hparams["beta1"] == 0.8 and racers[0].hparams["eps"] == 1e-5
    assert racers[2].optimizer == "ftrl" and racers[2].hparams["l1"] == 0.01


@pytest.mark.parametrize(
    ("top", "racer", "expected"),
    [
        ('flavor = "jax"', "", "zoo.toml:2: flavor: unknown value 'jax'; allowed: torch, keras"),
        ("flavor = 3", "", "zoo.toml:2: flavor: must be a string, got an integer 3"),
        (
            "",
            'flavor = "kears"',
            "zoo.toml:8: racer[1].flavor: unknown value 'kears' (did you mean 'keras'?); "
            "allowed: torch, keras",
        ),
        (
            'flavor = "keras"',
            "",
            None,  # rmsprop and adam both exist in keras: no error
        ),
    ],
)
def test_unknown_flavors_are_one_located_line(top: str, racer: str, expected: str | None) -> None:
    if expected is None:
        parse(top, racer)
        return
    with pytest.raises(ScenarioError) as error:
        parse(top, racer)
    assert str(error.value) == expected


def test_an_optimizer_the_flavor_lacks_is_one_located_line() -> None:
    text = SURFACE.format(top='flavor = "keras"', racer="").replace('"rmsprop"', '"rprop"')
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, name="zoo")
    message = str(error.value)
    assert message.startswith("zoo.toml:10: racer[2].optimizer: unknown keras optimizer 'rprop'")
    assert "allowed: sgd, adagrad" in message and "'rprop' exists in flavor torch" in message
    assert "\n" not in message
    text = SURFACE.format(top="", racer="").replace('"rmsprop"', '"ftrl"')
    with pytest.raises(ScenarioError, match=r"'ftrl' exists in flavor keras, not torch"):
        parse_scenario(text, name="zoo")


GRID = """\
steps = 3
{top}
[surface]
function = "peaks"

[grid]
optimizer = ["adam", "nadam"]
{axis}
"""


def test_a_grid_takes_the_default_flavor_or_has_a_flavor_axis() -> None:
    scenario = parse_scenario(GRID.format(top='flavor = "keras"', axis="lr = [0.1, 0.01]"))
    assert {r.flavor for r in scenario.racers} == {"keras"}
    scenario = parse_scenario(GRID.format(top="", axis='flavor = ["torch", "keras"]'))
    assert [(r.name, r.flavor, r.grid_position) for r in scenario.racers] == [
        ("adam lr=0.001 torch", "torch", (0, 0)),
        ("adam lr=0.001 keras", "keras", (0, 1)),
        ("nadam lr=0.002 torch", "torch", (1, 0)),
        ("nadam lr=0.001 keras", "keras", (1, 1)),
    ]
    with pytest.raises(ScenarioError, match=r":8: grid.flavor: unknown value 'jax'"):
        parse_scenario(GRID.format(top="", axis='flavor = ["torch", "jax"]'))


def test_the_course_scenarios_follow_keras() -> None:
    for name in ("peaks_zoo", "iris_grid", "iris_grid_20", "digits_grid", "digits_grid_300"):
        scenario = load_scenario(name, check=False)
        assert scenario.flavor == "keras", name
        assert {r.flavor for r in scenario.racers} == {"keras"}, name
    assert load_scenario("peaks_zoo_torch", check=False).flavor == "torch"


def test_the_check_summary_names_a_flavor_other_than_torch() -> None:
    from tui_optim.scenario import check_scenario

    summary = check_scenario(load_scenario("peaks_zoo", check=False))
    assert summary.endswith(": 8 racers (keras flavor) on peaks, 10 steps")
    assert "flavor" not in check_scenario(load_scenario("peaks_zoo_torch", check=False))
    mixed = parse_scenario(GRID.format(top="", axis='flavor = ["torch", "keras"]'))
    assert "4 racers (torch and keras flavor) on peaks" in check_scenario(mixed)
