"""Export the race (JSON, CSV or weights), asking before overwriting an existing file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

if TYPE_CHECKING:
    from tui_optim.ui.app import TuiOptimApp

#: export kind -> (label, file suffix)
KINDS: dict[str, tuple[str, str]] = {
    "json": ("JSON (summary and histories)", ".json"),
    "csv": ("CSV (one row per racer and point)", ".csv"),
    "weights": ("weights (.npz, one array set per racer)", ".npz"),
    "grid": ("grid table (CSV: final loss, val accuracy per cell)", "-grid.csv"),
}


def default_path(stem: str, kind: str) -> str:
    return f"{stem or 'race'}{KINDS[kind][1]}"


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no question; returns True for yes. Escape or n answers no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "answer(False)", "No"),
        ("n", "answer(False)", "No"),
        ("y", "answer(True)", "Yes"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="dialog-title", markup=False)
            with Horizontal(id="buttons"):
                yield Button("No", id="no")
                yield Button("Yes, overwrite", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ExportScreen(ModalScreen[None]):
    """Pick a format and a path; the file is written atomically by the engine's exporter."""

    app: TuiOptimApp
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")
        self.kind = "json"

    @property
    def stem(self) -> str:
        scenario = self.app.scenario
        return (scenario.name if scenario is not None else "") or "race"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Export the race", id="dialog-title")
            with RadioSet(id="kind"):
                for kind, (label, _) in KINDS.items():
                    yield RadioButton(label, value=kind == self.kind, id=f"kind-{kind}")
            path_input = Input(default_path(self.stem, self.kind), id="path", compact=True)
            if self.app.test_mode:
                path_input.cursor_blink = False
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
                    self._write(path)

            self.app.push_screen(ConfirmScreen(f"{path} exists. Overwrite it?"), answered)
            return
        self._write(path)

    def _write(self, path: Path) -> None:
        try:
            written = self.app.export_race(self.kind, path)
        except (OSError, ValueError) as error:
            self._error(f"export failed: {error}")
            return
        if written:
            self.app.notify(f"exported {self.kind} to {path}")
        self.dismiss(None)

    def _error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)
        self.notify(message, severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
