"""A small iris sweep scenario as TOML, shared by the sweep tests (runner, CLI, Dask).

Each test names what its sweep varies (optimizers, learning rates, seeds, epochs); the data
and the model are the same everywhere: iris standardised, a fifth held out, batches of 32,
a 4-N-3 SELU network with softmax and cross-entropy.
"""

from __future__ import annotations


def iris_sweep(
    *,
    epochs: int,
    optimizers: str,
    lr: str,
    seeds: int,
    title: str = "tiny sweep",
    seed: int = 3,
    hidden: int = 5,
    init: str | None = "lecun_normal",
    extra: str = "",
) -> str:
    """The scenario's text. ``optimizers`` and ``lr`` are TOML values as written in
    ``[sweep]``; ``init`` None leaves the model's initializer at its default; ``extra``
    lines go at the end of ``[sweep]``."""
    init_line = "" if init is None else f'init = "{init}"\n'
    return f"""\
title = "{title}"
seed = {seed}
epochs = {epochs}

[data]
source = "iris"
scale = "standard"
validation = 0.2
batch_size = 32

[model]
layers = [4, {hidden}, 3]
hidden = "selu"
output = "softmax"
loss = "cross_entropy"
{init_line}
[sweep]
optimizer = {optimizers}
lr = {lr}
seeds = {seeds}
{extra}
"""

