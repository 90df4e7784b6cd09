"""The optimizer registry: every family the race knows, in display order.

The CLI, the scenario validator, the UI and the tests read :data:`OPTIMIZERS`. Each class
carries its hyperparameters (:class:`~tui_optim.engine.optimizers.base.HParam`: name,
default, range, aliases), a one-line ``summary`` and its update rule in the docstring.

Example::

    opt_cls = get_optimizer("adam")
    opt = opt_cls([{"lr": 1e-3}, {"learning_rate": 1e-2, "beta_1": 0.8}], np.float64)
    opt.init_state(params)        # params: (2, P)
    opt.step(params, grads)       # in place
"""

from __future__ import annotations

import inspect

from tui_optim.engine.errors import UnknownNameError, unknown
from tui_optim.engine.optimizers.adadelta import Adadelta
from tui_optim.engine.optimizers.adafactor import Adafactor
from tui_optim.engine.optimizers.adagrad import Adagrad
from tui_optim.engine.optimizers.adam import Adam, AdamW, AMSGrad
from tui_optim.engine.optimizers.adamax import Adamax
from tui_optim.engine.optimizers.adaptive_gains import AdaptiveGains
from tui_optim.engine.optimizers.asgd import ASGD
from tui_optim.engine.optimizers.base import HParam, HyperparameterError, Optimizer
from tui_optim.engine.optimizers.lbfgs import LBFGS
from tui_optim.engine.optimizers.lion import Lion
from tui_optim.engine.optimizers.momentum import Momentum
from tui_optim.engine.optimizers.muon import Muon
from tui_optim.engine.optimizers.nadam import NAdam
from tui_optim.engine.optimizers.nesterov import Nesterov
from tui_optim.engine.optimizers.radam import RAdam
from tui_optim.engine.optimizers.rmsprop import RMSprop
from tui_optim.engine.optimizers.rprop import Rprop
from tui_optim.engine.optimizers.sgd import SGD
from tui_optim.engine.optimizers.textbook_adam import TextbookAdam
from tui_optim.engine.optimizers.wrappers import SAM, Lookahead

__all__ = [
    "OPTIMIZERS",
    "TORCH_EQUIVALENTS",
    "HParam",
    "HyperparameterError",
    "Optimizer",
    "UnknownOptimizerError",
    "get_optimizer",
    "update_rule",
]

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (
        SGD,
        Momentum,
        Nesterov,
        AdaptiveGains,
        Adagrad,
        Adadelta,
        RMSprop,
        Rprop,
        Adam,
        AMSGrad,
        AdamW,
        Adamax,
        NAdam,
        RAdam,
        Lion,
        TextbookAdam,
    )
}
# torch.optim 2.13's newer families, and the wrappers around any other family
OPTIMIZERS.update({cls.name: cls for cls in (Adafactor, ASGD, LBFGS, Muon, Lookahead, SAM)})

#: Our name -> the torch.optim class reproducing it step for step (parity-tested).
TORCH_EQUIVALENTS: dict[str, str] = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "rmsprop": "RMSprop",
    "rprop": "Rprop",
    "adam": "Adam",
    "amsgrad": "Adam(amsgrad=True)",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
}
TORCH_EQUIVALENTS.update(
    {"adafactor": "Adafactor", "asgd": "ASGD", "lbfgs": "LBFGS", "muon": "Muon (+ AdamW on biases)"}
)


class UnknownOptimizerError(UnknownNameError, HyperparameterError):
    """No optimizer of that name; the message suggests the closest one."""


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def get_optimizer(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name`` (case, '-' and ' ' are forgiven: "RMSprop",
    "Adam", "textbook-adam"); raise :class:`UnknownOptimizerError` with a suggestion."""
    if isinstance(name, str):
        found = OPTIMIZERS.get(_normalise(name))
        if found is not None:
            return found
        word: object = _normalise(name)
    else:
        word = name
    raise UnknownOptimizerError(unknown("optimizer", word, OPTIMIZERS))


def update_rule(name: str) -> str:
    """The optimizer's documentation (summary, update rule, notes, reference) as plain text."""
    return inspect.cleandoc(get_optimizer(name).__doc__ or "")
