"""The optimizer registry: every family the race knows, in display order.

The CLI, the scenario validator, the UI and the tests read :data:`OPTIMIZERS`. Each class
carries its hyperparameters (:class:`~tui_optim.engine.optimizers.base.HParam`: name,
default, range, aliases), a one-line ``summary`` and its update rule in the docstring.

Example::

    opt_cls = get_optimizer("adam")            # torch semantics; flavor="keras" for Keras'
    opt = opt_cls([{"lr": 1e-3}, {"learning_rate": 1e-2, "beta_1": 0.8}], np.float64)
    opt.init_state(params)        # params: (2, P)
    opt.step(params, grads)       # in place
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from tui_optim.engine.errors import UnknownNameError, unknown
from tui_optim.engine.optimizers.adabelief import AdaBelief
from tui_optim.engine.optimizers.adadelta import Adadelta
from tui_optim.engine.optimizers.adafactor import Adafactor
from tui_optim.engine.optimizers.adagrad import Adagrad
from tui_optim.engine.optimizers.adam import Adam, AdamW, AMSGrad
from tui_optim.engine.optimizers.adamax import Adamax
from tui_optim.engine.optimizers.adan import Adan
from tui_optim.engine.optimizers.adaptive_gains import AdaptiveGains
from tui_optim.engine.optimizers.ademamix import AdEMAMix
from tui_optim.engine.optimizers.adopt import ADOPT
from tui_optim.engine.optimizers.asgd import ASGD
from tui_optim.engine.optimizers.base import HParam, HyperparameterError, Optimizer
from tui_optim.engine.optimizers.fromage import Fromage
from tui_optim.engine.optimizers.keras import KERAS_OPTIMIZERS
from tui_optim.engine.optimizers.lamb import LAMB
from tui_optim.engine.optimizers.lars import LARS
from tui_optim.engine.optimizers.lbfgs import LBFGS
from tui_optim.engine.optimizers.lion import Lion
from tui_optim.engine.optimizers.madgrad import MADGRAD
from tui_optim.engine.optimizers.momentum import Momentum
from tui_optim.engine.optimizers.muon import Muon
from tui_optim.engine.optimizers.nadam import NAdam
from tui_optim.engine.optimizers.nesterov import Nesterov
from tui_optim.engine.optimizers.novograd import NovoGrad
from tui_optim.engine.optimizers.prodigy import Prodigy
from tui_optim.engine.optimizers.radam import RAdam
from tui_optim.engine.optimizers.rmsprop import RMSprop
from tui_optim.engine.optimizers.rprop import Rprop
from tui_optim.engine.optimizers.schedule_free import ScheduleFreeAdamW
from tui_optim.engine.optimizers.sgd import SGD
from tui_optim.engine.optimizers.signum import Signum
from tui_optim.engine.optimizers.sm3 import SM3
from tui_optim.engine.optimizers.textbook_adam import TextbookAdam
from tui_optim.engine.optimizers.wrappers import SAM, Lookahead
from tui_optim.engine.optimizers.yogi import Yogi

__all__ = [
    "FLAVORS",
    "KERAS_EQUIVALENTS",
    "OPTAX_EQUIVALENTS",
    "OPTIMIZERS",
    "TORCH_EQUIVALENTS",
    "HParam",
    "HyperparameterError",
    "Optimizer",
    "UnknownOptimizerError",
    "flavored",
    "get_optimizer",
    "registry",
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

#: Families following optax 0.2.8's rules and defaults, after the torch ones.
OPTIMIZERS.update(
    {
        cls.name: cls
        for cls in (
            LAMB,
            AdaBelief,
            LARS,
            Yogi,
            ScheduleFreeAdamW,
            Prodigy,
            Adan,
            ADOPT,
            AdEMAMix,
            MADGRAD,
            NovoGrad,
            Signum,
            SM3,
            Fromage,
        )
    }
)

#: Our name -> the optax 0.2.8 optimizer reproducing it step for step (parity-tested).
OPTAX_EQUIVALENTS: dict[str, str] = {
    "lamb": "optax.lamb",
    "adabelief": "optax.adabelief",
    "lars": "optax.lars",
    "yogi": "optax.yogi",
    "schedule_free_adamw": "optax.contrib.schedule_free_adamw",
    "prodigy": "optax.contrib.prodigy",
    "adan": "optax.adan",
    "adopt": "optax.contrib.adopt",
    "ademamix": "optax.contrib.ademamix",
    "madgrad": "optax.contrib.madgrad",
    "novograd": "optax.novograd",
    "signum": "optax.signum",
    "sm3": "optax.sm3",
    "fromage": "optax.fromage",
}


class UnknownOptimizerError(UnknownNameError, HyperparameterError):
    """No optimizer of that name; the message suggests the closest one."""


# ----------------------------------------------------------------------------- flavors
#: Whose rules and defaults a racer follows; "torch" is the default.
FLAVORS: tuple[str, ...] = ("torch", "keras")

#: Our keras-flavor name -> the Keras 3 call it reproduces step for step (parity-tested).
KERAS_EQUIVALENTS: dict[str, str] = {
    name: cls.keras_class for name, cls in KERAS_OPTIMIZERS.items()
}


def flavored(name: str, flavor: str) -> str:
    """How listings name an optimizer: ``adam`` in the default torch flavor, ``adam (keras)``
    in another one."""
    return name if flavor == "torch" else f"{name} ({flavor})"


def registry(flavor: str = "torch") -> Mapping[str, type[Optimizer]]:
    """The registry of one flavor (name -> class, in display order)."""
    if flavor == "keras":
        return KERAS_OPTIMIZERS
    if flavor == "torch":
        return OPTIMIZERS
    raise UnknownNameError(unknown("flavor", flavor, FLAVORS))


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def get_optimizer(name: str, flavor: str = "torch") -> type[Optimizer]:
    """The optimizer class registered as ``name`` in ``flavor`` (case, '-' and ' ' are
    forgiven: "RMSprop", "Adam", "textbook-adam"); raise :class:`UnknownOptimizerError` with a
    suggestion, naming the flavor when the name exists only in another one."""
    names = registry(flavor)
    if isinstance(name, str):
        found = names.get(_normalise(name))
        if found is not None:
            return found
        word: object = _normalise(name)
    else:
        word = name
    message = unknown("optimizer" if flavor == "torch" else f"{flavor} optimizer", word, names)
    others = [f for f in FLAVORS if f != flavor and isinstance(word, str) and word in registry(f)]
    if others:
        message = f"{message} ({word!r} exists in flavor {', '.join(others)}, not {flavor})"
    raise UnknownOptimizerError(message)


def update_rule(name: str, flavor: str = "torch") -> str:
    """The optimizer's documentation (summary, update rule, notes, reference) as plain text."""
    return inspect.cleandoc(get_optimizer(name, flavor).__doc__ or "")
