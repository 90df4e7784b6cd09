"""Open another scenario: pick a built-in or type a path to a .toml file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_optim.ui.widgets.text_input import TextInput


def builtin_names() -> list[str]:
    """Names of the built-in scenarios (the engine's registry)."""
    from tui_optim.scenario import builtin_scenarios

    return list(builtin_scenarios())


class OpenScenarioScreen(ModalScreen[str | None]):
    """Returns a built-in name or a file path (checked to exist), or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Open a scenario", id="dialog-title")
            yield OptionList(*[Option(name, id=name) for name in builtin_names()], id="builtins")
            path_input = TextInput(
                placeholder="or a path to a .toml file, then enter", id="path", compact=True
            )
            yield Horizontal(Label("file", classes="field-label"), path_input, classes="field")
            yield Static("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Open", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._open_path(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        typed = self.query_one("#path", Input).value
        if typed.strip():
            self._open_path(typed)
            return
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def _open_path(self, typed: str) -> None:
        text = typed.strip()
        if not text:
            self._error("type a path to a scenario file, or pick a built-in above")
            return
        if text in builtin_names():
            self.dismiss(text)
            return
        path = Path(text).expanduser()
        if not path.is_file():
            self._error(f"no such file: {path}")
            return
        self.dismiss(str(path))

    def _error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)
        self.notify(message, severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
