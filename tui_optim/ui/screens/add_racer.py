"""Hyperparameter forms: add a racer (here), edit and fork (edit.py) share HparamForm.

Every value is checked against the optimizer registry's HParam specs before anything is sent;
a bad value keeps the dialog open with a one-line message, and nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui_optim.ui.format import flavored, hparam_value
from tui_optim.ui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from tui_optim.engine.optimizers.base import HParam, Optimizer


class FormError(ValueError):
    """A value in a form that cannot be used; the message is one line for the user."""


def optimizer_registry(flavor: str = "torch") -> Mapping[str, type[Optimizer]]:
    """The optimizer families of one flavor by name (the engine's registry)."""
    from tui_optim.engine.optimizers import registry

    return registry(flavor)


def flavors() -> tuple[str, ...]:
    from tui_optim.engine.optimizers import FLAVORS

    return FLAVORS


def parse_value(spec: HParam, text: str, optimizer: str) -> float | int | bool:
    """Parse what the user typed for ``spec`` and range-check it; raise FormError."""
    from tui_optim.engine.optimizers.base import HyperparameterError

    raw = text.strip()
    if not raw:
        raise FormError(f"{optimizer}.{spec.name} is empty; it must be {spec.allowed()}")
    value: float | int
    try:
        value = int(raw) if spec.kind == "int" else float(raw)
    except ValueError:
        raise FormError(f"{optimizer}.{spec.name} must be {spec.allowed()}, got {raw!r}") from None
    try:
        return spec.check(value, optimizer)
    except HyperparameterError as error:
        raise FormError(str(error)) from None


def field_id(name: str) -> str:
    return f"hp-{name}"


class HparamForm(ModalScreen[Any]):
    """Base dialog: one input per hyperparameter of ``optimizer``, filled with ``values``.

    Subclasses decide the title, which fields are editable and what :meth:`result` returns.
    Escape cancels (returns None).
    """

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]
    title_text = "Hyperparameters"
    submit_label = "OK"

    def __init__(
        self,
        optimizer: str,
        values: Mapping[str, float | int | bool | str],
        flavor: str = "torch",
    ) -> None:
        super().__init__(classes="dialog")
        self.optimizer = optimizer
        self.flavor = flavor
        self.values: dict[str, float | int | bool | str] = dict(values)
        # The optimizer whose inputs are mounted: a rebuild is asynchronous, and a submit in
        # between must not read one optimizer's fields as another's.
        self.fields_optimizer: str | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            yield from self.compose_header()
            # Not a focus stop itself: tab goes from one field to the next.
            yield VerticalScroll(id="form-fields", can_focus=False)
            yield Static("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit_label, id="submit", variant="primary")

    def compose_header(self) -> ComposeResult:
        """Widgets above the hyperparameter fields (subclasses add name/optimizer inputs)."""
        yield from ()

    async def on_mount(self) -> None:
        await self.build_fields()
        # A form without header inputs (edit) would start on Cancel: start on its first field.
        if self.focused is None or isinstance(self.focused, Button):
            fields = self.query("#form-fields Input, #form-fields Select")
            first = next((field for field in fields if not field.disabled), None)
            if first is not None:
                first.focus()

    def editable(self, spec: HParam) -> bool:
        return True

    async def build_fields(self) -> None:
        """(Re)create the inputs for the current optimizer, keeping values typed so far."""
        container = self.query_one("#form-fields", VerticalScroll)
        self.fields_optimizer = None
        await container.remove_children()
        building = self.optimizer
        optimizer_class = optimizer_registry(self.flavor)[building]
        rows = []
        for spec in optimizer_class.hparams:
            value = self.values.get(spec.name, spec.default)
            editor: Input | Select[bool]
            if spec.kind == "bool":
                # A Select says "on"/"off" in words, which stays readable without colour.
                editor = Select(
                    [("on", True), ("off", False)],
                    value=bool(value),
                    allow_blank=False,
                    id=field_id(spec.name),
                    compact=True,
                )
            else:
                editor = TextInput(
                    hparam_value(value),
                    id=field_id(spec.name),
                    type="text",
                    placeholder=spec.allowed(),
                    compact=True,
                )
            editor.disabled = not self.editable(spec)
            rows.append(
                Horizontal(
                    Label(spec.name, classes="field-label"),
                    editor,
                    Label(f"{spec.help} — {spec.allowed()}", classes="field-help"),
                    classes="field",
                )
            )
        await container.mount_all(rows)
        self.fields_optimizer = building

    # ------------------------------------------------------------------ reading
    def read_hparams(self) -> dict[str, float | int | bool]:
        """Every editable field parsed and checked (cross-field checks too); raise FormError."""
        from tui_optim.engine.optimizers.base import HyperparameterError

        if self.fields_optimizer != self.optimizer:
            raise FormError(f"the fields for {self.optimizer} are still loading; submit again")
        optimizer_class = optimizer_registry(self.flavor)[self.optimizer]
        fields = {spec.name for spec in optimizer_class.hparams}
        # keys without a field (a wrapper's inner optimizer and its values) are kept
        values: dict[str, float | int | bool | str] = {
            key: value
            for key, value in self.values.items()
            if key not in fields and optimizer_class.canonical_name(key) is not None
        }
        for spec in optimizer_class.hparams:
            editor = self.query_one(f"#{field_id(spec.name)}")
            if isinstance(editor, Select):
                values[spec.name] = bool(editor.value)
            else:
                assert isinstance(editor, Input)
                values[spec.name] = parse_value(spec, editor.value, self.optimizer)
        try:
            return optimizer_class.validate(values)
        except HyperparameterError as error:
            raise FormError(str(error)) from None

    def result(self) -> Any:
        """What the dialog returns on submit; raise FormError to keep it open."""
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        # Inline only: a toast would sit over the dialog's buttons.
        self.query_one("#form-error", Static).update(message)
        self.app.bell()

    # ------------------------------------------------------------------ events
    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        elif event.button.id == "submit":
            self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        try:
            outcome = self.result()
        except FormError as error:
            self.show_error(str(error))
            return
        self.dismiss(outcome)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AddRacerScreen(HparamForm):
    """Choose an optimizer (of any flavor), fill its hyperparameters (defaults given);
    returns AddRacer."""

    title_text = "Add a racer"
    submit_label = "Add"

    def __init__(self, optimizer: str | None = None, flavor: str = "torch") -> None:
        names = list(optimizer_registry(flavor))
        chosen = optimizer if optimizer in names else ("adam" if "adam" in names else names[0])
        super().__init__(chosen, {}, flavor)
        #: The optimizer list's values: "adam" (torch flavor), "adam (keras)" -> flavor, name.
        self.choices = {
            flavored(name, each): (each, name)
            for each in flavors()
            for name in optimizer_registry(each)
        }

    def compose_header(self) -> ComposeResult:
        options = [
            (f"{value} — {optimizer_registry(each)[name].summary}", value)
            for value, (each, name) in self.choices.items()
        ]
        yield Horizontal(
            Label("optimizer", classes="field-label"),
            Select(
                options,
                value=flavored(self.optimizer, self.flavor),
                allow_blank=False,
                id="optimizer",
                compact=True,
            ),
            classes="field",
        )
        name_input = TextInput("", id="racer-name", placeholder="name (optional)", compact=True)
        yield Horizontal(Label("name", classes="field-label"), name_input, classes="field")

    async def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        chosen = self.choices.get(event.value) if isinstance(event.value, str) else None
        if chosen is None or chosen == (self.flavor, self.optimizer):
            return
        # What the user changed is kept for names the next optimizer shares (e.g. lr);
        # everything else starts from the new optimizer's defaults.
        self.values = self._typed_values()
        self.flavor, self.optimizer = chosen
        self.query_one("#form-error", Static).update("")
        await self.build_fields()

    def _typed_values(self) -> dict[str, float | int | bool | str]:
        """Values the user changed from the current optimizer's defaults (parseable ones)."""
        defaults = optimizer_registry(self.flavor)[self.optimizer].defaults()
        kept: dict[str, float | int | bool | str] = {}
        for editor in self.query("#form-fields Input, #form-fields Select"):
            name = (editor.id or "").removeprefix("hp-")
            value: float | int | bool
            if isinstance(editor, Select):
                value = bool(editor.value)
            elif isinstance(editor, Input):
                try:
                    value = float(editor.value)
                except ValueError:
                    continue
            else:
                continue
            if value != defaults.get(name):
                kept[name] = value
        return kept

    def result(self) -> Any:
        from tui_optim.race.messages import AddRacer

        name = self.query_one("#racer-name", Input).value.strip() or None
        return AddRacer(self.optimizer, self.read_hparams(), name=name, flavor=self.flavor)
