"""Muon, exactly as torch.optim.Muon on every weight matrix; AdamW on the biases."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.adam import AdamW
from tui_optim.engine.optimizers.base import (
    HParam,
    HyperparameterError,
    Optimizer,
    Tensor,
    lerp_,
    lr_param,
    weight_decay_param,
)


def to_bfloat16(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to bfloat16 (round to nearest even), held in float32.

    float64 input is rounded to float32 first, as torch's ``.bfloat16()`` does.
    """
    single = np.ascontiguousarray(values, dtype=np.float32)
    bits = single.view(np.uint32).astype(np.uint64)
    bits += 0x7FFF + ((bits >> 16) & 1)
    bits &= 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def _product_float32(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ right`` of bfloat16 stacks (r, m, k) @ (r, k, n), summed in float32 in the
    order of torch's CPU bfloat16 kernel (oneDNN, AVX512-BF16): pairs of products, the odd
    index first, accumulated in turn. The products of two bfloat16 values are exact."""
    out = np.zeros((left.shape[0], left.shape[1], right.shape[2]), dtype=np.float32)
    inner = left.shape[2]
    for start in range(0, inner, 2):
        for k in (start + 1, start):
            if k < inner:
                out += left[:, :, k, None] * right[:, None, k, :]
    return out


def _addmm_bfloat16(
    beta: float, base: np.ndarray, alpha: float, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """torch.addmm(base, left, right, beta=beta, alpha=alpha) in bfloat16 on the CPU: the
    product in float32, ``beta * base + (alpha * product)`` rounded once to float32."""
    product = _product_float32(left, right)
    if alpha != 1.0:
        product *= np.float32(alpha)
    total = np.float64(np.float32(beta)) * base.astype(np.float64) + product
    return to_bfloat16(total.astype(np.float32))


def newton_schulz(
    matrices: np.ndarray, coefficients: tuple[float, float, float], steps: int, eps: float
) -> np.ndarray:
    """torch.optim.Muon's ``_zeropower_via_newtonschulz`` on a stack (r, m, n), in bfloat16.

    Each matrix is scaled to Frobenius norm 1, then ``steps`` quintic iterations
    ``X = a X + (b A + c A A) X`` with ``A = X X^T`` (X wide: transposed when m > n) push
    its singular values towards 1. Returns float64 (exact copies of bfloat16 values).
    """
    a, b, c = coefficients
    x = to_bfloat16(matrices)
    tall = matrices.shape[1] > matrices.shape[2]
    if tall:
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    norm = to_bfloat16(np.sqrt(np.einsum("rij,rij->r", x, x, dtype=np.float32)))
    norm = np.maximum(norm, to_bfloat16(np.array(eps, dtype=np.float32)))
    x = to_bfloat16(x / norm[:, None, None])
    for _ in range(steps):
        gram = to_bfloat16(_product_float32(x, x.transpose(0, 2, 1)))
        update = _addmm_bfloat16(b, gram, c, gram, gram)
        x = _addmm_bfloat16(a, x, 1.0, update, x)
    if tall:
        x = x.transpose(0, 2, 1)
    return x.astype(np.float64)


class Muon(Optimizer):
    """Muon: momentum orthogonalised by Newton-Schulz on each weight matrix; AdamW on biases.

    Update rule for a weight matrix W, in nn.Linear's (out, in) orientation (B starts at 0)::

        B = momentum * B + (1 - momentum) * g             (torch's lerp)
        U = lerp(g, B, momentum)  if nesterov  else  B
        O = NS(U)                  5 Newton-Schulz steps in bfloat16 (coefficients a, b, c)
        W *= 1 - lr * weight_decay
        W -= lr * sqrt(max(1, out / in)) * O              (match_rms_adamw: 0.2 sqrt(max))

    Biases (and a surface's point) follow torch.optim.AdamW with the racer's lr and AdamW's
    defaults, as torch's documentation advises for parameters that are not matrices.
    torch's ``ns_coefficients = (a, b, c)`` and ``adjust_lr_fn = "original" |
    "match_rms_adamw"`` are accepted.

    The Newton-Schulz iteration runs in bfloat16, as torch's does; its float32 sums follow
    torch 2.13's CPU kernel on processors with AVX512-BF16 (other kernels may round a few
    sums differently).

    Reference: Jordan et al., "Muon: an optimizer for hidden layers in neural networks"
    (2024), https://kellerjordan.github.io/posts/muon/ ; Liu et al., "Muon is scalable for
    LLM training" (2025); https://pytorch.org/docs/stable/generated/torch.optim.Muon.html
    """

    name = "muon"
    summary = "Muon: Newton-Schulz-orthogonalised momentum per matrix, AdamW biases (torch)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1e-3),
        weight_decay_param(0.1, decoupled=True),
        HParam("momentum", 0.95, "momentum factor", low=0.0),
        HParam("nesterov", True, "Nesterov momentum", "bool"),
        HParam("a", 3.4445, "Newton-Schulz coefficient of X"),
        HParam("b", -4.7750, "Newton-Schulz coefficient of A X"),
        HParam("c", 2.0315, "Newton-Schulz coefficient of A A X"),
        HParam("eps", 1e-7, "floor of the norm the matrix is divided by", low=0.0),
        HParam("ns_steps", 5, "Newton-Schulz iterations", "int", low=1, high=99),
        HParam("match_rms_adamw", False, "scale lr by 0.2 sqrt(max(out, in))", "bool"),
    )
    pair_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {"ns_coefficients": ("a", "b", "c")}

    @classmethod
    def accepted_keys(cls) -> list[str]:
        return sorted([*super().accepted_keys(), "adjust_lr_fn"])

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, float | int | bool]:
        values = dict(given)
        if "adjust_lr_fn" in values:
            rule = values.pop("adjust_lr_fn")
            if rule not in ("original", "match_rms_adamw"):
                raise HyperparameterError(
                    f'muon.adjust_lr_fn must be "original" or "match_rms_adamw", got {rule!r}'
                )
            if "match_rms_adamw" in values:
                raise HyperparameterError(
                    "muon: 'adjust_lr_fn' and 'match_rms_adamw' both set match_rms_adamw"
                )
            values["match_rms_adamw"] = rule == "match_rms_adamw"
        return super().validate(values)

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._matrices = [t for t in self.tensors if t.is_matrix]
        others = [t for t in self.tensors if not t.is_matrix]
        for tensor in self._matrices:
            self._new_state(params[:, tensor.columns], f"{tensor.name}.momentum_buffer")
        self._other_columns = np.concatenate(
            [np.arange(t.columns.start, t.columns.stop) for t in others] or [np.zeros(0, int)]
        )
        self._adamw: AdamW | None = None
        if len(self._other_columns):
            self._adamw = AdamW([{"lr": 1.0}] * self.rows, self.dtype)
            self._adamw.h["lr"] = self.h["lr"]
            self._adamw.lr_scale = self.lr_scale
            self._adamw.init_state(params[:, self._other_columns])
            for key, value in self._adamw.state.items():
                self.state[f"bias.{key}"] = value

    def row_state(self, i: int) -> dict[str, Any]:
        saved = super().row_state(i)
        if self._adamw is not None:
            saved["bias_t"] = float(self._adamw.t[i, 0])
        return saved

    def set_row_state(self, i: int, saved: Mapping[str, Any]) -> None:
        super().set_row_state(i, saved)
        if self._adamw is not None:
            self._adamw.t[i, 0] = saved.get("bias_t", saved["t"])

    def set_hparam(self, i: int, name: str, value: Any) -> None:
        super().set_hparam(i, name, value)
        if self._adamw is not None:
            self._adamw.h["lr"] = self.h["lr"]
            self._adamw._derived.clear()

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        lr = self.lr
        decay = 1 - lr * self.h["weight_decay"]
        momentum = self.h["momentum"]
        for tensor in self._matrices:
            self._step_matrix(tensor, params, grads, lr, decay, momentum)
        if self._adamw is not None:
            columns = self._other_columns
            others = params[:, columns]
            self._adamw.step(others, grads[:, columns])
            params[:, columns] = others

    def _iteration_groups(self) -> list[tuple[np.ndarray, tuple[float, ...]]]:
        """Rows that share the Newton-Schulz settings (a, b, c, ns_steps, eps), batched."""
        key = "iteration groups"
        if key not in self._derived:
            settings = np.hstack([self.h[name] for name in ("a", "b", "c", "ns_steps", "eps")])
            unique, inverse = np.unique(settings, axis=0, return_inverse=True)
            self._derived[key] = [
                (np.flatnonzero(inverse.ravel() == i), tuple(float(v) for v in values))
                for i, values in enumerate(unique)
            ]
        return self._derived[key]

    def _step_matrix(
        self,
        tensor: Tensor,
        params: np.ndarray,
        grads: np.ndarray,
        lr: np.ndarray,
        decay: np.ndarray,
        momentum: np.ndarray,
    ) -> None:
        fan_in, fan_out = tensor.shape
        grad = grads[:, tensor.columns]
        buffer = self.state[f"{tensor.name}.momentum_buffer"]
        scratch = np.empty_like(buffer)
        lerp_(buffer, grad, self._complement("momentum"), scratch)
        if self.flags["nesterov"]:
            update = grad.copy()
            lerp_(update, buffer, momentum, scratch)
        else:
            update = buffer
        # torch's W is (out, in): ours transposed
        matrices = update.reshape(-1, fan_in, fan_out).transpose(0, 2, 1)
        orthogonal = np.empty_like(matrices)
        for rows, (a, b, c, steps, eps) in self._iteration_groups():
            orthogonal[rows] = newton_schulz(matrices[rows], (a, b, c), int(steps), eps)
        if self.flags["match_rms_adamw"]:
            ratio = 0.2 * math.sqrt(max(fan_out, fan_in))
        else:
            ratio = math.sqrt(max(1, fan_out / fan_in))
        weights = params[:, tensor.columns]
        if self._uses("weight_decay"):
            weights *= decay
        step = orthogonal.transpose(0, 2, 1).reshape(self.rows, -1)
        weights -= (lr * ratio) * step
