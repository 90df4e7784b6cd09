"""L-BFGS, exactly as torch.optim.LBFGS: one step is torch's ``step(closure)``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from tui_optim.engine.optimizers.base import (
    Closure,
    HParam,
    HyperparameterError,
    Optimizer,
    lr_param,
)

#: A point's loss and flat gradient along the search direction: (x, t, d) -> (f, g).
Directional = Callable[[np.ndarray, float, np.ndarray], tuple[float, np.ndarray]]


class LBFGS(Optimizer):
    """L-BFGS: quasi-Newton steps from the last ``history_size`` gradient differences.

    One racer step is torch's ``optimizer.step(closure)``: up to ``max_iter`` iterations
    (``max_eval`` loss-and-gradient evaluations) on the same batch. Update rule of one
    iteration::

        d = -H g           (two-loop recursion over the pairs s = t d, y = g_new - g with
                            y.s > 1e-10; H starts as (y.s / y.y) I, at the first step d = -g)
        t = lr             (at the very first iteration min(1, 1 / |g|_1) * lr)
        strong_wolfe: t from a strong-Wolfe line search along d (c1 = 1e-4, c2 = 0.9)
        w += t d

    and it stops early when max |g| <= tolerance_grad, when |t d| or the loss change falls
    below tolerance_change, or when the evaluations run out. Each row keeps its own
    history and may evaluate the gradient a different number of times per step.

    Full batch only: the curvature pairs and the line search need the same function at
    every evaluation. ``max_eval`` 0 means torch's default ``max_iter * 5 // 4``; torch's
    ``line_search_fn = "strong_wolfe"`` is accepted for ``strong_wolfe = true``.

    Reference: Nocedal, "Updating quasi-Newton matrices with limited storage" (1980);
    Nocedal & Wright, "Numerical Optimization" (2006), algorithms 7.4 and 3.5-3.6;
    https://pytorch.org/docs/stable/generated/torch.optim.LBFGS.html
    """

    name = "lbfgs"
    summary = "L-BFGS: quasi-Newton, optional strong-Wolfe line search; full batch (torch)"
    full_batch_only = True
    needs_closure = True
    hparams: ClassVar[tuple[HParam, ...]] = (
        lr_param(1.0),
        HParam("max_iter", 20, "iterations per step", "int", low=1),
        HParam("max_eval", 0, "evaluations per step (0: max_iter * 5 // 4)", "int", low=0),
        HParam("tolerance_grad", 1e-7, "stop when max |g| is at most this", low=0.0),
        HParam("tolerance_change", 1e-9, "stop when the step or loss change is below", low=0.0),
        HParam("history_size", 100, "curvature pairs kept", "int", low=1),
        HParam("strong_wolfe", False, "strong-Wolfe line search (line_search_fn)", "bool"),
    )

    @classmethod
    def accepted_keys(cls) -> list[str]:
        return sorted([*super().accepted_keys(), "line_search_fn"])

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, float | int | bool]:
        values = dict(given)
        if "line_search_fn" in values:
            search = values.pop("line_search_fn")
            if search not in ("strong_wolfe", "none", ""):
                raise HyperparameterError(
                    f'lbfgs.line_search_fn must be "strong_wolfe" or "none", got {search!r}'
                )
            if "strong_wolfe" in values:
                raise HyperparameterError(
                    "lbfgs: 'line_search_fn' and 'strong_wolfe' both set strong_wolfe"
                )
            values["strong_wolfe"] = search == "strong_wolfe"
        return super().validate(values)

    def init_state(self, params: np.ndarray) -> None:
        super().init_state(params)
        #: Per row: torch's LBFGS state (direction, step, curvature pairs, previous gradient).
        self.row_states: list[dict[str, Any]] = [{} for _ in range(self.rows)]
        self._point = np.empty((1, params.shape[1]), dtype=self.dtype)
        self._gradient = np.empty_like(self._point)

    def row_state(self, i: int) -> dict[str, Any]:
        saved = super().row_state(i)
        saved["lbfgs"] = copy.deepcopy(self.row_states[i])
        return saved

    def set_row_state(self, i: int, saved: Mapping[str, Any]) -> None:
        super().set_row_state(i, saved)
        self.row_states[i] = copy.deepcopy(saved.get("lbfgs", {}))

    # A needs_closure family: the race passes the closure and losses (Optimizer.step).
    def step(  # type: ignore[override]
        self, params: np.ndarray, grads: np.ndarray, closure: Closure, losses: np.ndarray
    ) -> None:
        self._count_step()
        for row in range(self.rows):

            def evaluate(point: np.ndarray, row: int = row) -> tuple[float, np.ndarray]:
                self._point[0] = point
                loss = closure(self._point, self._gradient, slice(row, row + 1))
                return float(loss[0]), self._gradient[0].copy()

            self._step_row(row, params[row], grads[row].copy(), float(losses[row]), evaluate)

    def _setting(self, name: str, row: int) -> float:
        return float(self.h[name][row, 0])

    def _step_row(
        self,
        row: int,
        x: np.ndarray,
        flat_grad: np.ndarray,
        loss: float,
        evaluate: Callable[[np.ndarray], tuple[float, np.ndarray]],
    ) -> None:
        """torch's ``LBFGS.step`` for one row; ``x`` (P,) is updated in place."""
        lr = float(self.lr[row, 0])
        max_iter = int(self._setting("max_iter", row))
        max_eval = int(self._setting("max_eval", row)) or max_iter * 5 // 4
        tolerance_grad = self._setting("tolerance_grad", row)
        tolerance_change = self._setting("tolerance_change", row)
        history_size = int(self._setting("history_size", row))
        state = self.row_states[row]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        current_evals = 1
        state["func_evals"] += 1
        if np.abs(flat_grad).max() <= tolerance_grad:
            return
        d = state.get("d")
        t = state.get("t")
        old_dirs: list[np.ndarray] = state.get("old_dirs", [])
        old_stps: list[np.ndarray] = state.get("old_stps", [])
        ro: list[float] = state.get("ro", [])
        h_diag = state.get("H_diag", 1.0)
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        def directional(
            point: np.ndarray, step: float, direction: np.ndarray
        ) -> tuple[float, np.ndarray]:
            return evaluate(point + step * direction)

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                # all three are set by the iteration before
                assert prev_flat_grad is not None and d is not None and t is not None
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y.dot(y))
                num_old = len(old_dirs)
                al = [0.0] * num_old
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q += old_dirs[i] * -al[i]
                d = r = q * h_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            first = state["n_iter"] == 1
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if first else lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            opt_cond = False
            if self.flags["strong_wolfe"]:
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    directional, x.copy(), t, d, loss, flat_grad, gtd,
                    tolerance_change=1e-9, max_ls=max_eval - current_evals,
                )  # fmt: skip
                x += t * d
                opt_cond = bool(np.abs(flat_grad).max() <= tolerance_grad)
            else:
                x += t * d
                if n_iter != max_iter:
                    loss, flat_grad = evaluate(x)
                    opt_cond = bool(np.abs(flat_grad).max() <= tolerance_grad)
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break
        state.update(
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=h_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss,
        )


def _cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through two points with slopes, clamped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square**0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(
    obj_func: Directional,
    x: np.ndarray,
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """torch's strong-Wolfe line search (bracketing, then zoom by cubic interpolation).

    Returns the accepted point's loss and gradient, the step ``t`` and the evaluations.
    """
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new
    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals
