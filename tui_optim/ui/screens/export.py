"""Choose how to export the race (JSON, CSV or weights) and where, asking before
overwriting an existing file. The dialog returns an :class:`ExportRequest`; the caller
writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from tui_optim.ui.widgets.text_input import TextInput

#: export kind -> (label, file suffix)
KINDS: dict[str, tuple[str, str]] = {
    "json": ("JSON (summary and histories)", ".json"),
    "csv": ("CSV (one row per racer and point)", ".csv"),
    "weights": ("weights (.npz, one array set per racer)", ".npz"),
    "grid": ("grid table (CSV: final loss, val accuracy per cell)", "-grid.csv"),
}


def default_path(stem: str, kind: str) -> str:
    return f"{stem or 'race'}{KINDS[kind][1]}"


@dataclass(frozen=True)
class ExportRequest:
    """What the export dialog asks for: ``kind`` ("json", "csv", "weights") to ``path``."""

    kind: str
    path: Path


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no question; returns True for yes. Escape or n answers no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "answer(False)", "No"),
        ("n", "answer(False)", "No"),
        ("y", "answer(True)", "Yes"),
    ]

    def __init__(self, question: str, yes_label: str = "Yes, overwrite") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="dialog-title", markup=False)
            with Horizontal(id="buttons"):
                yield Button("No (n)", id="no")
                yield Button(f"{self.yes_label} (y)", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class KindList(RadioSet):
    """The export formats; enter chooses the highlighted one and exports."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Export", show=False),
    ]

    class Chosen(Message):
        """Enter was pressed on a format: export now."""

    def action_choose(self) -> None:
        highlighted = self._selected
        if highlighted is not None:
            button = self._nodes[highlighted]
            if isinstance(button, RadioButton) and not button.value:
                button.value = True  # the RadioSet releases the one pressed before
        self.post_message(self.Chosen())


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Pick a format and a path (``stem`` names the default file); returns the request.
    The grid table is offered only for a grid race (``grid``)."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self, stem: str, grid: bool = False) -> None:
        super().__init__(classes="dialog")
        self.kind = "json"
        self.stem = stem or "race"
        self.kinds = {k: v for k, v in KINDS.items() if grid or k != "grid"}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Export the race", id="dialog-title")
            with KindList(id="kind"):
                for kind, (label, _) in self.kinds.items():
                    yield RadioButton(label, value=kind == self.kind, id=f"kind-{kind}")
            path_input = TextInput(default_path(self.stem, self.kind), id="path", compact=True)
            yield Horizontal(Label("file", classes="field-label"), path_input, classes="field")
            yield Static("", id="form-error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="submit", variant="primary")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        kind = (event.pressed.id or "kind-json").removeprefix("kind-")
        path_input = self.query_one("#path", Input)
        if path_input.value in {default_path(self.stem, k) for k in KINDS}:
            path_input.value = default_path(self.stem, kind)
        self.kind = kind

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_kind_list_chosen(self, event: KindList.Chosen) -> None:
        event.stop()
        self.call_after_refresh(self.submit)  # after the RadioSet.Changed it may have posted

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.submit()

    def submit(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        if not text:
            self._error("type a file name to export to")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self._error(f"{path} is a directory; type a file name")
            return
        if not path.parent.exists():
            self._error(f"no such directory: {path.parent}")
            return
        if path.exists():

            def answered(yes: bool | None) -> None:
                if yes:
                    self.dismiss(ExportRequest(self.kind, path))

            self.app.push_screen(ConfirmScreen(f"{path} exists. Overwrite it?"), answered)
            return
        self.dismiss(ExportRequest(self.kind, path))

    def _error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)
        self.notify(message, severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
