"""Fuzzing the command line: bad flags and bad scenario values give exit code 2 and one line
on stderr, and nothing at all gives a traceback. Seeded and bounded (a few seconds).

Every command here stops before a race starts: ``run`` always gets ``--processes 0``,
which is refused after the scenario and its overrides are read, so a fully valid command
line still ends in a one-line usage error about --processes.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tui_optim.cli import main

LIMITS = {"epochs": (1, 1_000_000), "steps": (1, 100_000_000), "seed": (0, 2**32 - 1)}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def call(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` in this process: its exit code and stderr. An exception (a
    traceback for the user) fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, err.getvalue()


def assert_one_line_usage_error(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("tui-optim: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err


def valid(key: str, text: str) -> bool:
    """The rule the scenario file applies: an integer (3.0 counts) within the key's limits."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return False
        if not math.isfinite(number) or not number.is_integer():
            return False
        value = int(number)
    low, high = LIMITS[key]
    return low <= value <= high


NUMBER_TEXT = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["", "0", "-0", "1e30", "4294967295", "4294967296", "1_000", " 7 ", "0x10", "nan", "3.0"]
    ),
    st.text(max_size=8),
)


@seed(16)
@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(LIMITS)), NUMBER_TEXT, min_size=1))
def test_run_flags_give_one_line_and_exit_2(flags: dict[str, str]) -> None:
    argv = ["run", "quickstart", *(f"--{key}={text}" for key, text in flags.items())]
    code, err = call([*argv, "--processes", "0"])
    assert_one_line_usage_error(code, err)
    if "\0" in "".join(flags.values()):
        return
    bad = [key for key, text in flags.items() if not valid(key, text)]
    if {"epochs", "steps"} <= set(flags):
        assert "give one" in err
    elif bad:
        assert any(err.startswith(f"tui-optim: --{key}: ") for key in bad), err
    else:
        assert "--processes" in err


BASE = {
    "": {"title": "fuzz", "seed": 1, "epochs": 2},
    "data": {"source": "iris", "validation": 0.2},
    "model": {"layers": [4, 4, 3], "output": "softmax", "loss": "cross_entropy"},
    "racer": {"optimizer": "adam", "lr": 0.01},
    "grid": {"optimizer": ["sgd", "adam"], "lr": [0.1, 0.01]},
}
KEYS = {
    "": ["title", "seed", "epochs", "steps", "repeats", "target_loss", "bogus"],
    "data": [
        *("source", "target", "columns", "rows", "encoding", "scale", "validation"),
        *("batch_size", "shuffle", "noise", "window", "path"),
    ],
    "model": ["layers", "hidden", "output", "loss", "init", "dtype"],
    "racer": [
        *("optimizer", "name", "lr", "betas", "momentum", "schedule", "colour"),
        *("batch_size", "start", "nesterov", "eps"),
    ],
    "grid": ["optimizer", "lr", "batch_size", "schedule", "momentum", "name"],
}
SCALARS = st.one_of(
    st.booleans(),
    st.integers(-3, 5),
    st.sampled_from([10**6, 10**9, 2**32, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["iris", "moons", "csv", "lorenz", "adam", "sgd", "full", "x.npz"]),
    st.sampled_from(["onehot", "value", "minmax", "float32", "softmax", "cosine", "#00ff00"]),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=5,
)


def to_toml(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


def document(tables: dict[str, dict[str, Any]]) -> str:
    lines = [f"{k} = {to_toml(v)}" for k, v in tables[""].items()]
    for table in ("data", "model", "racer", "grid"):
        if table in tables:
            lines.append("[[racer]]" if table == "racer" else f"[{table}]")
            lines += [f"{k} = {to_toml(v)}" for k, v in tables[table].items()]
    return "\n".join(lines) + "\n"


@st.composite
def scenarios(draw: st.DrawFn) -> str:
    tables = {table: dict(values) for table, values in BASE.items()}
    if draw(st.booleans()):
        del tables["grid"]
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from([t for t in tables]))
        tables[table][draw(st.sampled_from(KEYS[table]))] = draw(VALUES)
    return document(tables)


@seed(16)
@settings(FUZZ, max_examples=200)
@given(scenarios())
def test_scenario_values_give_a_summary_or_one_line(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(text)
        code, err = call(["check", str(path)])
        if code != 0:
            assert_one_line_usage_error(code, err)
            assert str(path) in err


TOKENS = st.sampled_from(
    [
        *("check", "list", "new", "run", "quickstart", "iris_grid", "datasets", "optimizers"),
        *("--epochs", "--steps", "--seed", "--json", "--csv", "--weights", "--force"),
        *("--headless", "--quiet", "-h", "--help", "1e30", "-1", "0", "x", "", "/"),
        "nonexistent.toml",
    ]
)


@seed(16)
@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(["check", "list", "new", "run"]), st.lists(TOKENS, max_size=5))
def test_any_command_line_never_gives_a_traceback(command: str, tokens: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        argv = [command, *tokens]
        if command == "new":
            argv = ["new", str(Path(folder) / "new.toml"), *tokens[:1]]
        if command == "run":
            argv += ["--processes", "0"]
        try:
            code, err = call(argv)
        except SystemExit as stop:  # --help prints and exits 0
            assert stop.code == 0
            return
        assert code in (0, 2), err
        if code == 2:
            assert_one_line_usage_error(code, err)
