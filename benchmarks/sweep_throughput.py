"""A 1080-run learning-rate sweep, whole process: `tui-optim sweep` against JAX in one run.

6 optimizers (sgd, adagrad, rmsprop, adam, adamax, nadam) x 36 learning rates log-spaced
from 1e-5 to 100 x 5 seeds, on iris (120 training rows, standardised) with a 4-8-3 selu
network, softmax cross-entropy, batch 32 shuffled every epoch, 100 epochs, float64.

Each side runs as its own process from a cold start (imports, data, compilation included),
timed from outside, and reports its peak resident memory:

- tui-optim: ``tui-optim sweep`` on the same sweep written as a scenario file;
- JAX: the sweep written as a JAX user would (optax optimizers, ``vmap`` over learning
  rates and seeds, ``jit``, ``lax.scan`` over the steps), run with the reference venv.

Target: tui-optim >= 1.5x faster, peak memory < 1 GiB.

    python benchmarks/sweep_throughput.py [--jax-python /work/refvenv/bin/python]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamax", "nadam")
POINTS, LOW, HIGH, SEEDS, EPOCHS, BATCH = 36, 1e-5, 100.0, 5, 100, 32
RUNS = len(OPTIMIZERS) * POINTS * SEEDS

SCENARIO = f"""\
title = "sweep throughput"
seed = 0
epochs = {EPOCHS}

[data]
source = "iris"
scale = "standard"
validation = 0.2
batch_size = {BATCH}

[model]
layers = [4, 8, 3]
hidden = "selu"
output = "softmax"
loss = "cross_entropy"
init = "lecun_normal"
dtype = "float64"

[sweep]
optimizer = {list(OPTIMIZERS)!r}
lr = {{ from = {LOW}, to = {HIGH}, points = {POINTS} }}
seeds = {SEEDS}
metric = "final_loss"
""".replace("'", '"')

JAX_SWEEP = f"""
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

x, y = load_iris(return_X_y=True)
x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
x_train = StandardScaler().fit_transform(x_train)
X = jnp.asarray(x_train)
Y = jax.nn.one_hot(jnp.asarray(y_train), 3, dtype=jnp.float64)
n = X.shape[0]
steps_per_epoch = -(-n // {BATCH})
lrs = jnp.asarray(np.geomspace({LOW}, {HIGH}, {POINTS}))
seeds = jnp.arange({SEEDS})

def init(key):
    k1, k2 = jax.random.split(key)
    w1 = jax.random.truncated_normal(k1, -2, 2, (4, 8), jnp.float64) * jnp.sqrt(1 / 4) / .87962566
    w2 = jax.random.truncated_normal(k2, -2, 2, (8, 3), jnp.float64) * jnp.sqrt(1 / 8) / .87962566
    return dict(w1=w1, b1=jnp.zeros(8), w2=w2, b2=jnp.zeros(3))

def loss_fn(p, xb, yb, mask):
    h = jax.nn.selu(xb @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    losses = -(yb * jax.nn.log_softmax(logits)).sum(-1)
    return (losses * mask).sum() / mask.sum()

def batches(key):
    # one permutation per epoch, padded to whole batches with a mask
    def epoch(k):
        order = jax.random.permutation(k, n)
        pad = steps_per_epoch * {BATCH} - n
        idx = jnp.concatenate([order, jnp.zeros(pad, order.dtype)])
        mask = jnp.concatenate([jnp.ones(n), jnp.zeros(pad)])
        return idx.reshape(-1, {BATCH}), mask.reshape(-1, {BATCH})
    idx, mask = jax.vmap(epoch)(jax.random.split(key, {EPOCHS}))
    return idx.reshape(-1, {BATCH}), mask.reshape(-1, {BATCH})

def make_run(make_opt):
    def run(lr, seed):
        key = jax.random.PRNGKey(seed)
        k_init, k_data = jax.random.split(key)
        params = init(k_init)
        opt = make_opt(lr)
        state = opt.init(params)
        idx, mask = batches(k_data)
        def step(carry, batch):
            params, state = carry
            i, m = batch
            loss, grads = jax.value_and_grad(loss_fn)(params, X[i], Y[i], m)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), loss
        (params, _), _ = jax.lax.scan(step, (params, state), (idx, mask))
        return loss_fn(params, X, Y, jnp.ones(n))
    over_seeds = jax.vmap(run, in_axes=(None, 0))
    return jax.jit(jax.vmap(over_seeds, in_axes=(0, None)))

makers = dict(
    sgd=optax.sgd, adagrad=optax.adagrad, rmsprop=optax.rmsprop,
    adam=optax.adam, adamax=optax.adamax, nadam=optax.nadam,
)
for name in {list(OPTIMIZERS)!r}:
    final = np.asarray(make_run(makers[name])(lrs, seeds))  # (lrs, seeds)
    medians = np.median(np.where(np.isfinite(final), final, np.inf), axis=1)
    best = int(np.argmin(medians))
    print(f"{{name:8}} tuned lr {{float(lrs[best]):.3g}} median final loss {{medians[best]:.4g}}")
"""


MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout
seconds = time.perf_counter() - start
print(out)
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak resident MiB (the largest process) of ``command``, and its
    output; measured by a fresh interpreter so each side's peak is its own."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
    )
    *output, last = result.stdout.rstrip("\n").split("\n")
    seconds, peak = (float(word) for word in last.split())
    return seconds, peak, "\n".join(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jax-python", default="/work/refvenv/bin/python")
    parser.add_argument("--processes", type=int, help="tui-optim sweep --processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "sweep_throughput.toml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        script = Path(folder) / "jax_sweep.py"
        script.write_text(JAX_SWEEP, encoding="utf-8")
        command = [sys.executable, "-m", "tui_optim", "sweep", str(scenario), "--quiet"]
        if args.processes:
            command += ["--processes", str(args.processes)]
        ours, our_peak, our_out = timed(command)
        jax_seconds, jax_peak, jax_out = timed([args.jax_python, str(script)])
    print(our_out)
    print(jax_out)
    what = f"{len(OPTIMIZERS)} optimizers x {POINTS} lrs x {SEEDS} seeds"
    print(f"{RUNS} runs ({what}), whole process")
    print(f"  tui-optim sweep  {ours:6.2f} s  {RUNS / ours:7.1f} runs/s  peak {our_peak:6.0f} MiB")
    print(
        f"  JAX (vmap, jit)  {jax_seconds:6.2f} s  {RUNS / jax_seconds:7.1f} runs/s  "
        f"peak {jax_peak:6.0f} MiB"
    )
    print(f"  speed-up         {jax_seconds / ours:6.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
