"""Help: every key of the app and each optimizer's update rule from the registry."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from textual.binding import BindingType

#: Keys handled by widgets rather than app bindings.
EXTRA_KEYS = (
    ("↑/↓", "select a racer in the parameter table"),
    ("click header", "sort the table by that column (again: reverse)"),
    ("tab", "move focus between the table, event log and cards"),
    ("+ - h j k l", "surface view: zoom about the selected racer, pan"),
    ("z 0", "surface view: fit the paths (and follow them), the whole surface"),
    ("i [ ]", "surface view: step inspector; the previous / next racer"),
    ("ctrl+p", "command palette: every key above as a command"),
    ("escape", "close this screen or a dialog"),
)


#: What each flavor means, after its heading.
FLAVOR_NOTES = {
    "torch": " (the default; torch.optim's rules and defaults)",
    "keras": ' (flavor = "keras" in a scenario; Keras 3\'s rules and defaults)',
}


def update_rule_text(name: str, optimizer_class: Any, flavor: str = "torch") -> str:
    """The optimizer's update rule, as the registry documents it."""
    from tui_optim.engine.optimizers import update_rule

    return str(update_rule(name, flavor))


#: Columns the optimizer docs are filled to: they read cleanly on an 80-column terminal.
DOC_WIDTH = 72
#: Sentences for developers, not for someone reading the help.
DEVELOPER_NOTE = re.compile(r"\btests?/|\btest_\w+|\bfixtures?\b")


def plain_doc(text: str, width: int = DOC_WIDTH) -> str:
    """A reStructuredText docstring as plain text: no ``code`` marks, ``::`` or fences,
    no notes about the test files; paragraphs filled to ``width``, indented blocks (the
    formulas) kept line by line."""
    text = re.sub(r"^\s*```\w*\s*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if all(line.startswith((" ", "\t")) for line in lines if line.strip()):
            # Column alignment padding goes: a formula line then fits the width.
            formulas = [re.sub(r" {3,}", "   ", line.strip()) for line in lines if line.strip()]
            paragraphs.append(
                "\n".join(
                    textwrap.fill(
                        line, width + 4, initial_indent="    ", subsequent_indent="        "
                    )
                    for line in formulas
                )
            )
            continue
        joined = " ".join(line.strip() for line in lines)
        sentences = re.split(r"(?<=[.;])\s+(?=[A-Z(])", joined)
        kept = " ".join(s for s in sentences if not DEVELOPER_NOTE.search(s))
        kept = re.sub(r"\s*::$", ":", kept).strip()
        if kept and kept != ":":
            paragraphs.append(textwrap.fill(kept, width, break_on_hyphens=False))
    return "\n\n".join(paragraphs)


def keys_text(bindings: list[BindingType]) -> Text:
    """Every key with what it does, one per line."""
    rows = [
        (binding.key_display or binding.key, f"{binding.description}: {binding.tooltip}")
        for binding in bindings
        if isinstance(binding, Binding)
    ]
    rows.extend(EXTRA_KEYS)
    width = max(len(key) for key, _ in rows) + 2
    text = Text()
    for key, description in rows:
        text.append(f"  {key:<{width}}", style="bold")
        text.append(f"{description}\n")
    return text


class HelpScreen(Screen[None]):
    """Full-screen help on ``keys`` (the app's and its screens'); escape or ? goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "app.pop_screen", "Back"),
        Binding("question_mark", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, keys: list[BindingType]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        from tui_optim.ui.screens.add_racer import flavors, optimizer_registry

        with VerticalScroll(id="help-body"):
            yield Static(Text("tui-optim — keys", style="bold"))
            yield Static(keys_text(self.keys), id="help-keys")
            for flavor in flavors():
                yield Static(
                    Text(
                        f"\nOptimizers and their update rules: {flavor} flavor"
                        f"{FLAVOR_NOTES.get(flavor, '')}",
                        style="bold",
                    )
                )
                for name, optimizer_class in optimizer_registry(flavor).items():
                    heading = Text.assemble(
                        (name, "bold"), f" ({flavor})  ", (optimizer_class.summary, "italic")
                    )
                    yield Static(heading)
                    yield Static(
                        Text(plain_doc(update_rule_text(name, optimizer_class, flavor)) + "\n")
                    )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
