"""Scenario files: every built-in is valid; every mistake is one located line; fuzzing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_optim.scenario import (
    DEFAULT_SCENARIO,
    ScenarioError,
    builtin_scenarios,
    check_scenario,
    load_scenario,
    parse_scenario,
    template,
)

VALID = """\
title = "t"
seed = 1
epochs = 3

[data]
source = "iris"
validation = 0.2

[model]
layers = [4, 8, 3]
hidden = "selu"
output = "softmax"
loss = "cross_entropy"

[[racer]]
optimizer = "adam"
lr = 0.01
"""


def test_builtins_include_every_course_example_and_all_check() -> None:
    names = set(builtin_scenarios())
    assert DEFAULT_SCENARIO in names
    assert {
        "scratch_adam",
        "batch_modes",
        "chaotic_series",
        "iris_131",
        "peaks_learning_rates",
        "peaks_local_minima",
        "peaks_zoo",
        "iris_grid",
        "iris_grid_20",
        "digits_grid",
        "digits_grid_300",
        "adaptive_lineup",
        "rosenbrock",
        "beale",
        "saddle",
    } <= names
    for name in names:
        scenario = load_scenario(name)
        assert check_scenario(scenario)
        text = builtin_scenarios()[name].read_text()
        assert text.startswith("# "), f"{name} needs a comment header"


def test_the_iris_131_scenario_is_the_course_network() -> None:
    scenario = load_scenario("iris_131")
    assert scenario.model is not None and scenario.data is not None
    assert scenario.model.layers == (1, 3, 1) and scenario.model.loss == "mae"
    assert scenario.data.rows == (0, 99) and scenario.data.columns == (2,)
    assert scenario.batch_size is None and scenario.shuffle is False and scenario.epochs == 50
    assert scenario.racers[0].hparams["lr"] == 0.001


def test_grid_makes_the_cartesian_product() -> None:
    scenario = load_scenario("iris_grid")
    assert len(scenario.racers) == 24 and scenario.grid is not None
    assert scenario.grid.row_key == "optimizer" and scenario.grid.column_key == "lr"
    positions = {r.grid_position for r in scenario.racers}
    assert positions == {(i, j) for i in range(6) for j in range(4)}


def test_template_is_a_valid_scenario(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    path.write_text(template())
    assert "My race" in check_scenario(load_scenario(path))


def replace_line(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title = \n", "invalid TOML"),
        ("epochz = 3\n" + VALID, ":1: epochz: unknown key 'epochz' (did you mean 'epochs'?)"),
        (
            replace_line('optimizer = "adam"', 'optimizer = "adma"'),
            ":16: racer[1].optimizer: unknown optimizer 'adma' (did you mean 'adam'?)",
        ),
        (replace_line("lr = 0.01", "lr = -1"), ":17: racer[1].lr: adam.lr must be"),
        (replace_line("lr = 0.01", "beta1 = 1.0"), "racer[1].beta1: adam.beta1 must be"),
        (replace_line("lr = 0.01", "eps = 0"), "adam.eps must be"),
        (replace_line("lr = 0.01", "weight_decay = -0.1"), "adam.weight_decay must be"),
        (
            replace_line('optimizer = "adam"', 'optimizer = "sgd"').replace(
                "lr = 0.01", "momentum = -1"
            ),
            "sgd.momentum must be",
        ),
        (replace_line("epochs = 3", "epochs = 1000000000000"), "the limit"),
        (replace_line("layers = [4, 8, 3]", "layers = [4, 1000000, 3]"), "the limit"),
        (replace_line('loss = "cross_entropy"', 'loss = "mse"'), "does not fit a softmax"),
        (replace_line('source = "iris"', 'source = "irs"'), "did you mean 'iris'"),
        (replace_line("epochs = 3", 'epochs = "3"'), "epochs: must be an integer"),
        (replace_line("epochs = 3", "steps = 3\nepochs = 3"), "not both"),
        (VALID + '[surface]\nfunction = "peaks"\n', "takes no [data] or [model]"),
        (replace_line("[[racer]]", "[grid]\noptimizer = []\n[[racer]]"), "empty grid"),
        (replace_line('hidden = "selu"', 'hidden = "selux"'), "did you mean 'selu'"),
        (
            replace_line('[data]\nsource = "iris"', '[data]\nsource = "csv"\npath = "no.csv"'),
            "file not found",
        ),
    ],
)
def test_mistakes_are_one_located_line(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, Path("race.toml"))
    message = str(error.value)
    assert expected in message and message.startswith("race.toml") and "\n" not in message


def test_layers_that_do_not_fit_the_data_are_named(tmp_path: Path) -> None:
    path = tmp_path / "race.toml"
    path.write_text(replace_line("layers = [4, 8, 3]", "layers = [5, 8, 3]"))
    with pytest.raises(ScenarioError, match="input size is 5 but iris gives 4 features"):
        load_scenario(path)


def test_missing_file_suggests_a_builtin() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'quickstart'"):
        load_scenario("quickstrat")


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**13), 10**13)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["lr", "optimizer", "source", "layers", "epochs", "x", "start", "function", "loss"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "title",
        "seed",
        "epochs",
        "steps",
        "repeats",
        "target_loss",
        "data",
        "model",
        "surface",
        "racer",
        "grid",
        "bogus",
    ]
)


def to_toml(value: object) -> str:
    import json
    import math

    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=6), st.sampled_from(["", VALID]))
def test_random_documents_give_a_scenario_or_one_line_error(doc: dict, base: str) -> None:
    lines = [f"{key} = {to_toml(value)}" for key, value in doc.items()]
    text = "\n".join(lines) + "\n" + base
    try:
        parse_scenario(text, Path("fuzz.toml"))
    except ScenarioError as error:
        assert "\n" not in str(error)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_valid_documents(data: st.DataObject) -> None:
    lines = VALID.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    replacement = data.draw(
        st.sampled_from(
            [
                "",
                "lr = 1e400",
                "layers = []",
                "epochs = -1",
                "[racer]",
                "seed = 1.5",
                "x = 1",
                'output = "linear"',
                "validation = 1.0",
                "batch_size = 0",
                "columns = [99]",
                "rows = [5, 2]",
                'init = "zeros.npz"',
                "repeats = 1000",
            ]
        )
    )
    lines[index] = replacement
    try:
        scenario = parse_scenario("\n".join(lines), Path("fuzz.toml"))
        check_scenario(scenario)
    except ScenarioError as error:
        assert "\n" not in str(error)
