"""Pieces the optax families share: optax's hyperparameter spellings, its moment updates in
its order of operations, and per-tensor norms and trust ratios.

optax writes an exponential moving average as ``(1 - decay) * g**order + decay * m`` and a
bias correction as ``m / (1 - decay**t)``; the helpers below round the same way, so float64
trajectories stay within 1e-12 of optax's.
"""

from __future__ import annotations

import numpy as np

from tui_optim.engine.optimizers.base import HParam, Optimizer


def optax_beta(name: str, default: float, help: str) -> HParam:
    """beta1/beta2/beta3 in [0, 1), also accepted as optax's b1/b2/b3."""
    return HParam(
        name,
        default,
        help,
        low=0.0,
        high=1.0,
        high_open=True,
        aliases=(name.replace("beta", "b"),),
    )


def eps_root_param(default: float) -> HParam:
    return HParam("eps_root", default, "added to the second moment inside the square root", low=0.0)


def update_moment(
    optimizer: Optimizer, moment: np.ndarray, value: np.ndarray, decay: str, work: np.ndarray
) -> None:
    """``moment = (1 - decay) * value + decay * moment`` in place (optax's update_moment)."""
    np.multiply(value, optimizer._complement(decay), out=work)
    moment *= optimizer.h[decay]
    moment += work


def update_moment_squared(
    optimizer: Optimizer, moment: np.ndarray, value: np.ndarray, decay: str, work: np.ndarray
) -> None:
    """``moment = (1 - decay) * value**2 + decay * moment`` in place (optax's
    update_moment_per_elem_norm of order 2: the square is taken before the weight)."""
    np.multiply(value, value, out=work)
    work *= optimizer._complement(decay)
    moment *= optimizer.h[decay]
    moment += work


def bias_correction(decay: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``1 - decay**t`` per row: what optax divides a moment by at step t."""
    return 1 - decay**t


def divide_by_corrected_rms(
    optimizer: Optimizer, update: np.ndarray, moment: np.ndarray, decay: str, work: np.ndarray
) -> None:
    """``update /= sqrt(moment / (1 - decay^t) + eps_root) + eps`` in place: the denominator
    of Adam-like rules in optax's order of operations (``work`` is overwritten)."""
    np.divide(moment, bias_correction(optimizer.h[decay], optimizer.t), out=work)
    work += optimizer.h["eps_root"]
    np.sqrt(work, out=work)
    work += optimizer.h["eps"]
    update /= work


def add_decayed_weights(
    optimizer: Optimizer, update: np.ndarray, params: np.ndarray, work: np.ndarray
) -> None:
    """``update += weight_decay * params`` in place when the racer decays its weights
    (optax's add_decayed_weights; ``work`` is overwritten)."""
    if optimizer._uses("weight_decay"):
        np.multiply(params, optimizer.h["weight_decay"], out=work)
        update += work


def tensor_blocks(optimizer: Optimizer, array: np.ndarray) -> list[np.ndarray]:
    """Views ``(r, n)`` of ``array``'s columns, one per tensor of the row (weight matrices and
    bias vectors, as optax's pytree leaves)."""
    return [array[:, tensor.columns] for tensor in optimizer.tensors]


def _tiling(optimizer: Optimizer) -> tuple[np.ndarray, np.ndarray] | None:
    """First columns and sizes of the row's tensors when they tile the row in order (an
    MLP's do), so per-tensor reductions are one ``reduceat``; None otherwise. Cached for
    the optimizer's current ``tensors``."""
    tensors = optimizer.tensors
    cached = optimizer._derived.get("tensor tiling")
    if cached is not None and cached[0] is tensors:
        tiling: tuple[np.ndarray, np.ndarray] | None = cached[1]
        return tiling
    starts = [t.columns.start or 0 for t in tensors]
    stops = [t.columns.stop for t in tensors]
    tiled = starts[0] == 0 and all(a == b for a, b in zip(stops, starts[1:], strict=False))
    unit_steps = all(t.columns.step in (None, 1) for t in tensors)
    tiling = (np.array(starts), np.subtract(stops, starts)) if tiled and unit_steps else None
    optimizer._derived["tensor tiling"] = (tensors, tiling)
    return tiling


def tensor_norms(optimizer: Optimizer, array: np.ndarray) -> np.ndarray:
    """Per-row Frobenius norm of each tensor of ``array`` (r, P), as ``(r, tensors)``."""
    tiling = _tiling(optimizer)
    if tiling is None:
        return np.hstack([frobenius_norm(block) for block in tensor_blocks(optimizer, array)])
    columns = tiling[1].sum()
    squares = array[:, :columns] * array[:, :columns]
    return np.sqrt(np.add.reduceat(squares, tiling[0], axis=1))


def spread(optimizer: Optimizer, per_tensor: np.ndarray, columns: int) -> np.ndarray:
    """``(r, tensors)`` values spread over each tensor's columns of a ``(r, columns)`` row
    block; columns of no tensor get 1 (a factor that leaves them alone)."""
    tiling = _tiling(optimizer)
    if tiling is not None and tiling[1].sum() == columns:
        return np.repeat(per_tensor, tiling[1], axis=1)
    out = np.ones((per_tensor.shape[0], columns), dtype=per_tensor.dtype)
    for index, tensor in enumerate(optimizer.tensors):
        out[:, tensor.columns] = per_tensor[:, index : index + 1]
    return out


def frobenius_norm(block: np.ndarray) -> np.ndarray:
    """Per-row Euclidean norm of a ``(r, n)`` block, as an ``(r, 1)`` column."""
    return np.sqrt(np.einsum("ij,ij->i", block, block))[:, None]


def trust_ratios(
    optimizer: Optimizer,
    params: np.ndarray,
    update: np.ndarray,
    min_norm: np.ndarray | float = 0.0,
    coefficient: np.ndarray | float = 1.0,
    eps: np.ndarray | float = 0.0,
) -> np.ndarray:
    """optax's ``scale_by_trust_ratio`` factor of every tensor, per row ``(r, tensors)``:
    ``coefficient * |w| / (|u| + eps)`` with both norms clipped below at ``min_norm``
    (optax's safe_norm), and 1 where either norm is 0 (a tensor that would never move)."""
    param_norm = tensor_norms(optimizer, params)
    update_norm = tensor_norms(optimizer, update)
    param_norm = np.where(param_norm <= min_norm, min_norm, param_norm)
    update_norm = np.where(update_norm <= min_norm, min_norm, update_norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = coefficient * param_norm / (update_norm + eps)
    return np.where((param_norm == 0.0) | (update_norm == 0.0), 1.0, ratio)


def tree_sum(optimizer: Optimizer, array: np.ndarray) -> np.ndarray:
    """optax.tree.sum per row ``(r, 1)``: each tensor summed, then the sums in tensor order."""
    total = np.zeros((array.shape[0], 1), dtype=array.dtype)
    for block in tensor_blocks(optimizer, array):
        total += block.sum(axis=1, keepdims=True)
    return total


def tree_vdot(optimizer: Optimizer, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """optax.tree.vdot per row ``(r, 1)``: each tensor's dot product, summed in tensor order."""
    total = np.zeros((a.shape[0], 1), dtype=a.dtype)
    for x, y in zip(tensor_blocks(optimizer, a), tensor_blocks(optimizer, b), strict=True):
        total += np.einsum("ij,ij->i", x, y)[:, None]
    return total


def rms_effective_step(
    optimizer: Optimizer, moment: str, decay: str, with_eps_root: bool = False
) -> np.ndarray:
    """``lr / (sqrt(v / (1 - decay^t) [+ eps_root]) + eps)`` per weight: what multiplies the
    (corrected) momentum in Adam-like rules, ``v`` the state array ``moment``."""
    t = np.maximum(optimizer.t, 1)
    corrected = optimizer.state[moment] / bias_correction(optimizer.h[decay], t)
    if with_eps_root:
        corrected = corrected + optimizer.h["eps_root"]
    step: np.ndarray = optimizer.lr / (np.sqrt(corrected) + optimizer.h["eps"])
    return step
