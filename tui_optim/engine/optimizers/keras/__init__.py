"""The Keras flavor: Keras 3's optimizers with Keras' update rules and defaults.

Same contract as the torch-flavor families (:class:`~tui_optim.engine.optimizers.base.
Optimizer`); each class reproduces one ``keras.optimizers`` class (Keras 3.15, parity-tested
in float64), including Keras' decoupled ``weight_decay`` applied by its base optimizer.
"""

from __future__ import annotations

from tui_optim.engine.optimizers.keras.adadelta import KerasAdadelta
from tui_optim.engine.optimizers.keras.adafactor import KerasAdafactor
from tui_optim.engine.optimizers.keras.adagrad import KerasAdagrad
from tui_optim.engine.optimizers.keras.adam import KerasAdam, KerasAdamW, KerasAMSGrad
from tui_optim.engine.optimizers.keras.adamax import KerasAdamax
from tui_optim.engine.optimizers.keras.base import KerasOptimizer
from tui_optim.engine.optimizers.keras.ftrl import KerasFtrl
from tui_optim.engine.optimizers.keras.lamb import KerasLamb
from tui_optim.engine.optimizers.keras.lion import KerasLion
from tui_optim.engine.optimizers.keras.muon import KerasMuon
from tui_optim.engine.optimizers.keras.nadam import KerasNadam
from tui_optim.engine.optimizers.keras.rmsprop import KerasRMSprop
from tui_optim.engine.optimizers.keras.sgd import KerasSGD

__all__ = ["KERAS_OPTIMIZERS", "KerasOptimizer"]

#: Keras-flavor families by name, in display order (the course's zoo first).
KERAS_OPTIMIZERS: dict[str, type[KerasOptimizer]] = {
    cls.name: cls
    for cls in (
        KerasSGD,
        KerasAdagrad,
        KerasAdadelta,
        KerasRMSprop,
        KerasAdam,
        KerasAMSGrad,
        KerasAdamW,
        KerasAdamax,
        KerasNadam,
        KerasLion,
        KerasAdafactor,
        KerasLamb,
        KerasFtrl,
        KerasMuon,
    )
}
