"""Schedule-free AdamW, exactly as optax.contrib.schedule_free_adamw."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    HParam,
    Optimizer,
    eps_param,
    lr_param,
    weight_decay_param,
)
from tui_optim.engine.optimizers.optax_common import (
    add_decayed_weights,
    bias_correction,
    optax_beta,
    rms_effective_step,
    update_moment_squared,
)


def warmup_lr(peak: np.ndarray, count: np.ndarray, warmup_steps: np.ndarray) -> np.ndarray:
    """optax's warmup_constant_schedule(0, peak, warmup_steps) at ``count`` (0-based), per row:
    ``peak * (1 - min(count, warmup_steps) / warmup_steps)`` below ``peak``, rising linearly
    from 0, then ``peak``; ``peak`` where ``warmup_steps`` is 0 (no warmup).

    Rounded as optax 0.2.8 under jit on CPU: its int32 step count makes jax compute the
    schedule in float32, and XLA turns the division by the constant warmup_steps into a
    product with its float32 reciprocal and fuses each multiply-add (one rounding each,
    emulated by exact float64 products rounded to float32).
    """
    steps = np.maximum(warmup_steps, 1).astype(np.float32)
    reciprocal = (np.float32(1) / steps).astype(np.float64)
    done = np.minimum(count, steps).astype(np.float64)
    fraction = (1.0 - done * reciprocal).astype(np.float32).astype(np.float64)
    top = peak.astype(np.float32).astype(np.float64)
    rising = (fraction * -top + top).astype(np.float32).astype(peak.dtype)
    return np.where(warmup_steps > 0, rising, peak)


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW: no momentum and no decay schedule; the weights the gradient is
    taken at interpolate between a plain RMS-scaled SGD sequence z and its running average
    x, and x is where the loss is reported and the weights exported.

    Update rule (z starts at w, nu at 0; t counts from 1; lr_t = lr, or the linear warmup
    lr * min(t, warmup_steps) / warmup_steps; the gradient g is taken at y = w)::

        max_lr = max(max_lr, lr_t) ;  weight = max_lr^weight_lr_power
        c = weight / (weight_sum += weight)
        nu = b2 * nu + (1 - b2) * g^2
        z_new = z - lr_(t-1) * (g / (sqrt(nu / (1 - b2^t)) + eps) + weight_decay * y)
        x = (y - (1 - b1) * z) / b1                 (the evaluation point)
        x = (1 - c) * x + c * z_new
        y = b1 * x + (1 - b1) * z_new ;  z = z_new

    lr_(t-1) is the warmup at t - 1 (optax's inner optimizer counts from 0, the wrapper from
    1; without warmup both are lr); the warmup is rounded as optax's (see warmup_lr). The
    reported loss and exported weights are at x = (y - (1 - b1) z) / b1, as
    optax.contrib.schedule_free_eval_params gives. optax's defaults; b1 must be > 0.
    optax's spellings learning_rate, b1 and b2 are accepted.

    Reference: Defazio et al., "The road less scheduled", arXiv:2405.15682 (NeurIPS 2024);
    optax.contrib.schedule_free_adamw (optax 0.2.8),
    https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.schedule_free_adamw
    """

    name = "schedule_free_adamw"
    summary = "Schedule-free AdamW: no schedule; loss and weights at the average x (optax)"
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(0.0025),
        HParam(
            "warmup_steps",
            0,
            "steps of linear lr warmup from 0 (0 = none)",
            "int",
            low=0,
        ),
        HParam(
            "beta1",
            0.9,
            "interpolation of y between the average x and z",
            low=0.0,
            low_open=True,
            high=1.0,
            high_open=True,
            aliases=("b1",),
        ),
        optax_beta("beta2", 0.999, "decay of the squared-gradient mean nu"),
        eps_param(1e-8),
        weight_decay_param(0.0),
        HParam(
            "weight_lr_power",
            2.0,
            "averaging weight of a step is max_lr^weight_lr_power",
            low=0.0,
        ),
    )

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        self._new_state(params, "z", params)
        self._new_state(params, "nu")
        rows = (self.rows, 1)
        self.state["weight_sum"] = np.zeros(rows, dtype=self.dtype)
        self.state["max_lr"] = np.zeros(rows, dtype=self.dtype)

    def _lr_at(self, count: np.ndarray) -> np.ndarray:
        if not self._uses("warmup_steps"):
            return self.lr
        return warmup_lr(self.lr, count, self.h["warmup_steps"])

    def evaluation_params(self, params: np.ndarray) -> np.ndarray:
        """x = (y - (1 - b1) z) / b1, into a buffer reused every call."""
        at = self._buffer("evaluation")
        np.multiply(self.state["z"], self._complement("beta1"), out=at)
        np.subtract(params, at, out=at)
        at /= self.h["beta1"]
        return at

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        self._count_step()
        z, nu = self.state["z"], self.state["nu"]
        max_lr, weight_sum = self.state["max_lr"], self.state["weight_sum"]
        work, update = self._buffer("work"), self._buffer("update")
        b1, one_minus_b1 = self.h["beta1"], self._complement("beta1")
        np.maximum(max_lr, self._lr_at(self.t), out=max_lr)
        weight = max_lr ** self.h["weight_lr_power"]
        weight_sum += weight
        with np.errstate(all="ignore"):
            ck = np.nan_to_num(weight / weight_sum, nan=0.0, posinf=np.inf)
        # the inner AdamW without momentum: z's step
        update_moment_squared(self, nu, grads, "beta2", work)
        np.divide(nu, bias_correction(self.h["beta2"], self.t), out=work)
        np.sqrt(work, out=work)
        work += self.h["eps"]
        np.divide(1, work, out=work)
        np.multiply(work, grads, out=update)
        add_decayed_weights(self, update, params, work)
        update *= self._lr_at(self.t - 1)
        x = self.evaluation_params(params)
        z -= update
        # x moves towards the new z; y interpolates between them
        x *= 1 - ck
        np.multiply(z, ck, out=work)
        x += work
        x *= b1
        np.multiply(z, one_minus_b1, out=work)
        x += work
        x -= params
        params += x

    def effective_step(self) -> np.ndarray:
        """lr / (sqrt(nu_hat) + eps): what multiplies g in z's step."""
        return rms_effective_step(self, "nu", "beta2")
