"""The [sweep] table: learning rates, entries, and every bad input as one located line."""

from __future__ import annotations

import itertools
import math

import pytest

from tui_optim.scenario import ScenarioError, builtin_scenarios, load_scenario, parse_scenario
from tui_optim.scenario.sweep import MAX_SWEEP_RUNS, log_spaced

HEAD = """\
title = "t"
seed = 1
epochs = 3
{top}
[data]
source = "iris"
validation = 0.2

[model]
layers = [4, 8, 3]
hidden = "selu"
output = "softmax"
loss = "cross_entropy"

[sweep]
{sweep}
"""


def sweep(body: str, top: str = "") -> str:
    return HEAD.format(sweep=body, top=top)


GOOD = 'optimizer = ["sgd", "adam"]\nlr = { from = 1e-5, to = 100.0, points = 36 }'


def test_log_spaced_learning_rates_include_both_ends() -> None:
    lrs = log_spaced(1e-5, 100.0, 36)
    assert len(lrs) == 36 and lrs[0] == 1e-5 and lrs[-1] == 100.0
    ratios = {round(math.log10(b / a), 12) for a, b in itertools.pairwise(lrs)}
    assert ratios == {round(7 / 35, 12)}


def test_a_sweep_parses_entries_lrs_seeds_and_metric() -> None:
    body = (
        'optimizer = ["sgd", { optimizer = "sgd", momentum = 0.9, name = "SGD+mom" },'
        ' { optimizer = "adam", beta_1 = 0.8 }]\n'
        'lr = [0.1, 0.001, 0.01]\nseeds = 4\nmetric = "val_accuracy"'
    )
    spec = parse_scenario(sweep(body)).sweep
    assert spec is not None
    assert [e.name for e in spec.entries] == ["sgd", "SGD+mom", "adam beta1=0.8"]
    assert spec.entries[1].hparams["momentum"] == 0.9
    assert spec.lrs == (0.001, 0.01, 0.1)
    assert (spec.seeds, spec.metric, spec.runs) == (4, "val_accuracy", 36)
    assert spec.higher_is_better
    defaults = parse_scenario(sweep(GOOD)).sweep
    assert defaults is not None and (defaults.seeds, defaults.metric) == (3, "final_loss")


@pytest.mark.parametrize(
    ("body", "top", "expected"),
    [
        ('optimizer = "sgd"\nlr = { from = 0.0, to = 1.0, points = 5 }', "", "sweep.lr: from"),
        ('optimizer = "sgd"\nlr = { from = -1.0, to = 1.0, points = 5 }', "", "above 0"),
        ('optimizer = "sgd"\nlr = { from = 1.0, to = 1.0, points = 5 }', "", "to must be above"),
        ('optimizer = "sgd"\nlr = { from = 0.1, to = 1.0, points = 1 }', "", "points must be"),
        ('optimizer = "sgd"\nlr = { from = 0.1, to = 1.0, points = 1001 }', "", "[2, 1000]"),
        ('optimizer = "sgd"\nlr = { from = 0.1, to = 1.0, step = 2 }', "", "unknown key 'step'"),
        ('optimizer = "sgd"\nlr = [0.1, -0.1]', "", "above 0"),
        ('optimizer = "sgd"\nlr = []', "", "sweep.lr"),
        (GOOD + "\nseeds = 0", "", "sweep.seeds: must be at least 1"),
        (GOOD + '\nmetric = "final_los"', "", "did you mean 'final_loss'"),
        (GOOD + '\nmetric = "steps_to_target"', "", "needs target_loss"),
        (GOOD + "\nlearning = 1", "", "sweep.learning: unknown key"),
        ('optimizer = ["sgd", "nope"]\nlr = [0.1]', "", "sweep.optimizer"),
        ('optimizer = [{ optimizer = "sgd", lr = 0.1 }]\nlr = [0.1]', "", "sets the learning"),
        ('optimizer = [{ optimizer = "sgd", momentm = 0.9 }]\nlr = [0.1]', "", "momentum"),
        ('optimizer = ["sgd", "sgd"]\nlr = [0.1]', "", "two entries are named"),
        (GOOD, "repeats = 3", "takes no repeats"),
        (
            'optimizer = "sgd"\nlr = { from = 1e-5, to = 1.0, points = 1000 }\nseeds = 101',
            "",
            f"101,000 runs; the limit is {MAX_SWEEP_RUNS:,}",
        ),
    ],
)
def test_bad_sweeps_are_one_located_line(body: str, top: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(sweep(body, top), name="bad")
    message = str(error.value)
    assert "\n" not in message and message.startswith("bad.toml:")
    assert expected in message


def test_a_sweep_with_racers_or_a_grid_is_refused() -> None:
    racer = sweep(GOOD) + '\n[[racer]]\noptimizer = "adam"\n'
    grid = sweep(GOOD) + '\n[grid]\noptimizer = ["adam"]\nlr = [0.1, 0.2]\n'
    for text, word in ((racer, "[[racer]]"), (grid, "[grid]")):
        with pytest.raises(ScenarioError, match=r"sweep: a \[sweep\] scenario takes no"):
            parse_scenario(text)
        with pytest.raises(ScenarioError, match=re_escape(word)):
            parse_scenario(text)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_validation_metrics_need_held_out_data() -> None:
    text = sweep(GOOD + '\nmetric = "val_loss"').replace("validation = 0.2", "validation = 0.0")
    with pytest.raises(ScenarioError, match=r"sweep\.metric: val_loss needs held-out data"):
        parse_scenario(text)


def test_the_built_in_sweeps_check() -> None:
    for name in ("iris_sweep", "digits_sweep", "peaks_sweep"):
        assert name in builtin_scenarios()
        scenario = load_scenario(name)
        assert scenario.sweep is not None and not scenario.racers
        text = builtin_scenarios()[name].read_text(encoding="utf-8")
        assert "What to look for" in text
    iris = load_scenario("iris_sweep").sweep
    assert iris is not None and (len(iris.entries), len(iris.lrs), iris.seeds) == (6, 36, 5)


def test_an_entry_takes_a_flavor_and_the_scenario_gives_the_default() -> None:
    body = (
        'optimizer = ["adam", { optimizer = "rmsprop", flavor = "keras" }, '
        '{ optimizer = "ftrl", flavor = "keras" }]\nlr = [0.01]'
    )
    spec = parse_scenario(sweep(body)).sweep
    assert spec is not None
    assert [(e.name, e.flavor) for e in spec.entries] == [
        ("adam", "torch"),
        ("rmsprop (keras)", "keras"),
        ("ftrl (keras)", "keras"),
    ]
    keras = parse_scenario(sweep('optimizer = "adam"\nlr = [0.01]', top='flavor = "keras"'))
    assert keras.sweep is not None and keras.sweep.entries[0].flavor == "keras"
    with pytest.raises(ScenarioError, match="unknown flavor 'jax'"):
        parse_scenario(sweep('optimizer = [{ optimizer = "adam", flavor = "jax" }]\nlr = [0.1]'))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('optimizer = "lbfgs"\nlr = [0.1]', "lbfgs needs the full batch"),
        (
            'optimizer = [{ optimizer = "sam", inner = { optimizer = "sgd", lr = 0.5 } }]\n'
            "lr = [0.1]",
            "the sweep sets the learning rate",
        ),
        ('optimizer = [{ optimizer = "adam", flavor = 3 }]\nlr = [0.1]', "sweep.optimizer"),
        ("optimizer = [3]\nlr = [0.1]", "an optimizer name or a table"),
        ("optimizer = []\nlr = [0.1]", "name at least one optimizer"),
        ('optimizer = "sgd"\nlr = { from = "a", to = 1.0, points = 3 }', "from must be a number"),
    ],
)
def test_entries_are_read_by_the_schema_as_one_located_line(body: str, expected: str) -> None:
    text = sweep(body).replace("validation = 0.2", "validation = 0.2\nbatch_size = 16")
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, name="bad")
    message = str(error.value)
    assert "\n" not in message and message.startswith("bad.toml:") and expected in message


def test_the_schema_declares_the_sweep_table() -> None:
    from tui_optim.scenario.schema import SWEEP, TOP

    assert TOP.option("sweep") is not None
    assert [option.key for option in SWEEP.options] == ["optimizer", "lr", "seeds", "metric"]


def test_headless_loading_has_no_racer_cap_but_a_ceiling() -> None:
    grid = (
        'title = "big"\nsteps = 2\n[surface]\nfunction = "peaks"\n[grid]\n'
        'optimizer = "sgd"\nlr = [{}]\n'
    )
    lrs = ", ".join(f"{0.001 * (k + 1):.3f}" for k in range(100))
    with pytest.raises(ScenarioError, match="100 racers; the limit is 64"):
        parse_scenario(grid.format(lrs))
    assert len(parse_scenario(grid.format(lrs), capped=False).racers) == 100
    repeated = grid.format(lrs).replace("steps = 2", "steps = 2\nrepeats = 100")
    repeated = repeated.replace(
        "[0.001", "[" + ", ".join(f"{k + 1}.5" for k in range(999)) + ", 0.001"
    )
    with pytest.raises(ScenarioError, match="the limit is 100,000"):
        parse_scenario(repeated, capped=False)
