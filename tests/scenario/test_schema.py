"""The option schema: every value checked once where it is read, errors placed on their key's
line, the grid and the command line held to the racer keys' limits, races too large for
memory refused before anything is allocated."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tui_optim.cli import main
from tui_optim.scenario import (
    MEMORY_BUDGET_BYTES,
    ScenarioError,
    load_scenario,
    parse_scenario,
    template,
)
from tui_optim.scenario.schema import (
    CLAIM,
    DATA,
    MODEL,
    RACER,
    SURFACE,
    TOP,
    Context,
    Flag,
    Integer,
    Option,
    Place,
    Table,
    read_table,
    read_text,
)

TWO_RACERS = """\
title = "t"
epochs = 3

[data]
source = "iris"

[model]
layers = [4, 8, 3]
output = "softmax"
loss = "cross_entropy"

[[racer]]
optimizer = "adam"

[[racer]]
optimizer = "adam"
lr = 0.01
betas = [0.9, 0.999]
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, Path("race.toml"))
    assert "\n" not in str(error.value)
    return error.value


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_bad_betas_on_the_second_racer_is_placed_on_its_betas_line() -> None:
    text = TWO_RACERS.replace("[0.9, 0.999]", "[0.9, 1.5]")
    error = error_of(text)
    assert error.key == "racer[2].betas"
    assert error.place is not None and error.place.line == line_of(text, "betas")
    assert str(error).startswith(f"race.toml:{line_of(text, 'betas')}: racer[2].betas: adam.beta2")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("batch_size = -5", 'grid.batch_size: must be a positive integer or "full", got -5'),
        (
            'batch_size = "abc"',
            "grid.batch_size: must be a positive integer or \"full\", got 'abc'",
        ),
        ('schedule = "bogus"', "grid.schedule: unknown schedule 'bogus'"),
        ("lr = [0.1, -1.0]", "grid.lr: sgd.lr must be a number in (0, inf), got -1.0"),
        ("weight_decay = -1.0", "grid.weight_decay: sgd.weight_decay must be"),
        ('colour = "#ff0000"', "grid.colour: a grid names and places its racers itself"),
    ],
)
def test_grid_values_are_checked_like_racer_values_at_parse_time(value: str, expected: str) -> None:
    text = TWO_RACERS + f'\n[grid]\noptimizer = ["sgd", "adam"]\n{value}\n'
    error = error_of(text)
    assert expected in str(error)
    assert error.place is not None and error.place.line == line_of(text, value)


def test_grid_sizes_are_counted_before_any_racer_is_made() -> None:
    thousand = ", ".join(["0.1"] * 1000)
    names = ", ".join(['"sgd"'] * 1000)
    text = TWO_RACERS + f"\n[grid]\noptimizer = [{names}]\nlr = [{thousand}]\n"
    started = time.perf_counter()
    error = error_of(text)
    assert "1,000,002 racers; the limit is 64" in str(error)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
    ],
    ids=["arrays", "inline tables"],
)
def test_deep_nesting_is_one_line_from_the_loader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(path)


@pytest.mark.parametrize("command", ["check", "run"])
def test_deep_nesting_exits_2_with_one_line(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nested too deeply" in err and "Traceback" not in err


def lorenz(samples: int, window: int) -> str:
    return f"""\
epochs = 1
[data]
source = "lorenz"
samples = {samples}
window = {window}
[model]
layers = [{window}, 4, 1]
[[racer]]
optimizer = "sgd"
"""


def test_a_lorenz_series_too_large_for_memory_is_refused_with_its_estimate() -> None:
    text = lorenz(1_000_000, 1000)
    started = time.perf_counter()
    error = error_of(text)
    assert time.perf_counter() - started < 1.0  # nothing was generated
    assert error.key == "data.samples" and error.place is not None
    assert error.place.line == line_of(text, "samples")
    assert "would need about 29.9 GiB of memory (data 29.8 GiB; 1 racer x 4,009" in str(error)
    assert "the budget is 4.0 GiB" in str(error)
    parse_scenario(lorenz(2000, 8), Path("race.toml"))  # the built-in size passes


def test_a_lorenz_series_too_long_to_integrate_is_refused_with_its_estimate() -> None:
    text = lorenz(1_000_000, 1)
    error = error_of(text)
    assert error.key == "data.samples"
    assert "making the lorenz data would take about 10 s; the budget is 5 s" in str(error)


def test_many_racers_of_a_large_model_are_refused_with_the_estimate() -> None:
    text = (
        TWO_RACERS.replace("[4, 8, 3]", "[4, 2200, 2200, 3]")
        + '\n[grid]\noptimizer = "sgd"\nlr = ['
        + ", ".join(["0.1"] * 60)
        + "]\n"
    )
    error = error_of(text)
    assert error.key == "model.layers"
    assert "62 racers x 4,859,803 parameters" in str(error) and "budget is 4.0 GiB" in str(error)
    assert MEMORY_BUDGET_BYTES == 4 * 2**30


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("epochs", "1e30", "must be at most 1,000,000 (the limit), got 1e+30"),
        ("steps", str(10**30), "must be at most 100,000,000 (the limit), got 1,000,000"),
        ("seed", "4294967296", "must be at most 4,294,967,295 (the limit), got 4,294,967,296"),
        ("seed", "-1", "must be at least 0, got -1"),
        ("epochs", "2.5", "must be an integer, got 2.5"),
        ("steps", "many", "must be an integer, got 'many'"),
    ],
)
def test_command_line_flags_have_the_file_keys_limits_and_messages(
    key: str, text: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "quickstart", f"--{key}", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tui-optim: --{key}: {problem}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("key", "value"), [("epochs", "1e30"), ("seed", "4294967296")])
def test_a_flag_and_its_file_key_report_the_same_problem(key: str, value: str) -> None:
    line = f"{key} = {value}\n" if key == "epochs" else f"epochs = 3\n{key} = {value}\n"
    in_file = error_of(TWO_RACERS.replace("epochs = 3\n", line))
    with pytest.raises(ScenarioError) as flag:
        read_text(TOP.option(key), value, f"--{key}")
    assert in_file.key == key and flag.value.key == f"--{key}"
    assert in_file.problem == flag.value.problem


def test_every_declared_key_is_in_the_template() -> None:
    text = template()
    for table in (TOP, DATA, MODEL, SURFACE, RACER, CLAIM):
        for option in table.options:
            assert re.search(rf"\b{option.key}\b\s*=|\[\[?{option.key}\]", text), option.key


def test_a_new_key_is_one_declaration_read_with_its_place_aliases_and_default() -> None:
    table = Table(
        "",
        (
            Option("flavor", Integer(1, 3), default=2, aliases=("flavour",)),
            Option("loud", Flag(), default=False),
        ),
    )

    def place(key: str) -> Place:
        return Place("race.toml", {"flavour": 4, "flavor": 5}.get(key), key)

    values = read_table(table, {"flavour": 3}, place, Context())
    assert values == {"flavor": 3, "loud": False}
    with pytest.raises(ScenarioError) as error:
        read_table(table, {"flavour": 9}, place, Context())
    assert str(error.value) == "race.toml:4: flavour: must be at most 3 (the limit), got 9"
    with pytest.raises(ScenarioError, match="'flavor' and 'flavour' both set flavor"):
        read_table(table, {"flavor": 1, "flavour": 1}, place, Context())
    with pytest.raises(ScenarioError, match=r"unknown key 'flavr' \(did you mean 'flavor'\?\)"):
        read_table(table, {"flavr": 1}, place, Context())


FLOAT32 = """\
epochs = 1
[data]
source = "iris"
[model]
layers = [4, 4, 3]
dtype = "float32"
[[racer]]
optimizer = "adam"
{key} = {value}
"""


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("lr", "1e39", "racer[1].lr: adam.lr = 1e+39 becomes inf in float32"),
        ("learning_rate", "1e-50", "racer[1].learning_rate: adam.lr = 1e-50 becomes 0 in float32"),
        ("eps", "1e-60", "racer[1].eps: adam.eps = 1e-60 becomes 0 in float32"),
    ],
)
def test_hyperparameters_are_checked_in_the_models_dtype(
    key: str, value: str, expected: str
) -> None:
    text = FLOAT32.format(key=key, value=value)
    error = error_of(text)
    assert f"race.toml:9: {expected}" in str(error)
    parse_scenario(text.replace('"float32"', '"float64"'), Path("race.toml"))  # fits float64


VERDICT_SCENARIO = """title = "t"
steps = 10
rank_by = "loss"
look_for = "  what to see  "

[surface]
function = "peaks"

[[racer]]
optimizer = "sgd"
name = "SGD"

[[racer]]
optimizer = "adam"
name = "Adam"

[[claim]]
racer = "Adam"
status = "converged"
beats = "SGD"
"""


def test_rank_by_look_for_and_claims_are_read_from_the_schema() -> None:
    scenario = parse_scenario(VERDICT_SCENARIO, name="race")
    assert scenario.rank_by == "loss" and scenario.look_for == "what to see"
    assert [(c.racer, c.status, c.before, c.beats) for c in scenario.claims] == [
        ("Adam", "converged", None, "SGD")
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('rank_by = "loss"', 'rank_by = "best"', r"race\.toml:3: rank_by: unknown ranking 'best'"),
        (
            'look_for = "  what to see  "',
            "look_for = 3",
            r"race\.toml:4: look_for: must be a string",
        ),
        (
            'status = "converged"',
            'status = "won"',
            r"race\.toml:19: claim\[1\]\.status: unknown status",
        ),
        (
            'beats = "SGD"',
            'beats = "sgd"',
            r"race\.toml:20: claim\[1\]\.beats: unknown racer 'sgd'",
        ),
        (
            'status = "converged"',
            'stat = "converged"',
            r"race\.toml:19: claim\[1\]\.stat: unknown key",
        ),
        ('racer = "Adam"\nstatus', "status", r"race\.toml:17: claim\[1\]\.racer: missing"),
    ],
)
def test_a_bad_verdict_key_is_one_located_line(old: str, new: str, message: str) -> None:
    text = VERDICT_SCENARIO.replace(old, new)
    with pytest.raises(ScenarioError, match=message) as error:
        parse_scenario(text, name="race")
    assert "\n" not in str(error.value)


def test_rank_by_on_the_command_line_goes_through_the_same_option() -> None:
    with pytest.raises(ScenarioError, match=r"--rank-by: unknown ranking 'best'"):
        read_text(TOP.option("rank_by"), "best", "--rank-by")
    assert read_text(TOP.option("rank_by"), "val_accuracy", "--rank-by") == "val_accuracy"


def test_a_claim_may_name_exactly_the_statuses_a_racer_can_have() -> None:
    """The scenario room cannot import the race's Status; the two lists must still agree."""
    from typing import get_args

    from tui_optim.race.messages import TERMINAL_STATUSES, Status
    from tui_optim.scenario.schema import CLAIM_STATUSES

    assert get_args(Status) == CLAIM_STATUSES
    assert set(TERMINAL_STATUSES) <= set(CLAIM_STATUSES)
