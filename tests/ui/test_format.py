"""The short texts cards and tables show."""

from __future__ import annotations

from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.ui.format import key_hparams


def test_key_hparams_name_a_switch_that_is_on_before_the_numbers() -> None:
    momentum = {**OPTIMIZERS["sgd"].defaults(), "lr": 0.05, "momentum": 0.9}
    nesterov = {**momentum, "nesterov": True}
    assert key_hparams(momentum) == "lr=0.05 mom=0.9 dampening=0 wd=0"
    assert key_hparams(nesterov) == "lr=0.05 nesterov mom=0.9 dampening=0"


def test_key_hparams_leave_out_switches_that_are_off_and_quiet_values() -> None:
    adam = OPTIMIZERS["adam"].defaults()
    assert key_hparams(adam) == "lr=0.001 β1=0.9 β2=0.999 wd=0"
    assert key_hparams({**adam, "amsgrad": True}, limit=2) == "lr=0.001 amsgrad"


def test_key_hparams_do_not_repeat_the_optimizer_name() -> None:
    amsgrad = OPTIMIZERS["amsgrad"].defaults()
    assert key_hparams(amsgrad, limit=2, optimizer="amsgrad") == "lr=0.001 β1=0.9"


def test_key_hparams_name_keras_clipping_only_when_it_is_on() -> None:
    from tui_optim.engine.optimizers import registry

    sgd = registry("keras")["sgd"].defaults()
    assert key_hparams(sgd) == "lr=0.01 mom=0 wd=0"
    assert key_hparams({**sgd, "clipnorm": 1.0}) == "lr=0.01 mom=0 wd=0 clipnorm=1"


def test_key_hparams_show_a_wrappers_inner_optimizer() -> None:
    lookahead = OPTIMIZERS["lookahead"].validate({"inner": {"optimizer": "adam", "lr": 0.01}})
    assert key_hparams(lookahead) == "k=5 alpha=0.5 inner=adam inner.lr=0.01"
