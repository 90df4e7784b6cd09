"""Edit a racer's hyperparameters live (SetHparam) or fork it with changes (ForkRacer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from tui_optim.ui.format import flavored
from tui_optim.ui.screens.add_racer import FormError, HparamForm
from tui_optim.ui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from tui_optim.engine.optimizers.base import HParam
    from tui_optim.race.messages import RacerSpec


class EditScreen(HparamForm):
    """Change numeric hyperparameters of a running racer; returns a list of SetHparam.

    Structural flags (nesterov, amsgrad, ...) change the code path, so they are shown but
    cannot change during a race (fork the racer instead).
    """

    submit_label = "Apply"

    def __init__(self, spec: RacerSpec) -> None:
        super().__init__(spec.optimizer, spec.hparams, spec.flavor)
        self.spec = spec
        self.title_text = f"Edit {spec.name} ({flavored(spec.optimizer, spec.flavor)})"

    def editable(self, spec: HParam) -> bool:
        return not spec.structural

    def result(self) -> Any:
        from tui_optim.race.messages import SetHparam

        values = self.read_hparams()
        changed = [
            SetHparam(self.spec.id, name, value)
            for name, value in values.items()
            if self.spec.hparams.get(name) != value
        ]
        if not changed:
            raise FormError("nothing changed; edit a value or press escape")
        return changed


class ForkScreen(HparamForm):
    """Copy a racer at the current step with changed hyperparameters; returns ForkRacer."""

    submit_label = "Fork"

    def __init__(self, spec: RacerSpec) -> None:
        super().__init__(spec.optimizer, spec.hparams, spec.flavor)
        self.spec = spec
        optimizer = flavored(spec.optimizer, spec.flavor)
        self.title_text = f"Fork {spec.name} ({optimizer}) with a changed hyperparameter"

    def compose_header(self) -> ComposeResult:
        name_input = TextInput(f"{self.spec.name} fork", id="racer-name", compact=True)
        yield Horizontal(Label("name", classes="field-label"), name_input, classes="field")

    def editable(self, spec: HParam) -> bool:
        return not spec.structural

    def result(self) -> Any:
        from tui_optim.race.messages import ForkRacer

        values = self.read_hparams()
        changes = {k: v for k, v in values.items() if self.spec.hparams.get(k) != v}
        if not changes:
            raise FormError("a fork needs at least one changed hyperparameter")
        name = self.query_one("#racer-name", Input).value.strip() or None
        return ForkRacer(self.spec.id, changes, name=name)
