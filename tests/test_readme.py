"""The README's Python examples run as written, against the engine they document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def python_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def run_example(code: str) -> dict[str, Any]:
    """Run one example as a user who pastes it would, and return its variables."""
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace


def test_the_engine_examples_in_the_readme_run() -> None:
    examples = python_examples()
    assert len(examples) == 2, "the README's engine examples changed: update this test"
    lockstep = run_example(examples[0])
    losses, mlp = lockstep["losses"], lockstep["mlp"]
    assert losses.shape == (2,) and np.isfinite(losses).all()
    start = np.stack([lockstep["initial_params"](mlp, "glorot_uniform", seed=0)] * 2)
    assert (losses < mlp.loss(start, lockstep["x"], lockstep["y"])).all(), "no racer learned"
    race = run_example(examples[1])["race"]
    assert race.state == "finished"


def test_the_optimizer_table_lists_every_optimizer_with_its_flavors() -> None:
    from tui_optim.engine.optimizers import FLAVORS, registry

    rows = re.findall(r"^\| `(\w+)` \| ([\w, ]+) \|", README.read_text(encoding="utf-8"), re.M)
    listed = {name: tuple(flavors.split(", ")) for name, flavors in rows}
    registered: dict[str, tuple[str, ...]] = {}
    for flavor in FLAVORS:
        for name in registry(flavor):
            registered[name] = (*registered.get(name, ()), flavor)
    assert listed == registered
