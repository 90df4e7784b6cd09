"""Display helpers shared by widgets and screens: badges, numbers, hyperparameters.

Status is never shown by colour alone: every badge is a symbol, a word and a colour.
Colours are Textual theme variables, so light/dark themes and NO_COLOR (monochrome) work.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from rich.text import Text
from textual.color import Color
from textual.markup import escape


def flavored(name: str, flavor: str) -> str:
    """How widgets name an optimizer of a flavor ("adam (keras)"): the registry's own
    spelling, imported when first needed (the registry imports every optimizer, which the
    first frame does without)."""
    from tui_optim.engine.optimizers import flavored as registry_flavored

    return registry_flavored(name, flavor)


#: status -> (symbol, word, theme colour variable)
BADGES: dict[str, tuple[str, str, str]] = {
    "running": ("▶", "running", "$accent"),
    "converged": ("✔", "converged", "$success"),
    "stalled": ("…", "stalled", "$warning"),
    "oscillating": ("~", "oscillating", "$warning"),
    "diverging": ("↗", "diverging", "$error"),
    "diverged": ("✖", "diverged", "$error"),
    "error": ("!", "error", "$error"),
    "finished": ("■", "finished", "$secondary"),
}

#: race state -> (symbol, word, colour)
RACE_STATES: dict[str, tuple[str, str, str]] = {
    "running": ("▶", "running", "$success"),
    "paused": ("⏸", "paused", "$warning"),
    "finished": ("■", "finished", "$accent"),
    "stopped": ("✖", "engine stopped", "$error"),
    "starting": ("…", "starting", "$foreground-muted"),
}

#: Short names for hyperparameters on cards and in the table.
SHORT_NAMES = {"beta1": "β1", "beta2": "β2", "momentum": "mom", "weight_decay": "wd", "rho": "ρ"}
#: Hyperparameters that never make the "key" list (noise on a narrow card).
QUIET_HPARAMS = {"eps", "initial_accumulator_value", "lr_decay"}
#: Switches that are off at 0 (Keras' clipping): named only when set.
OFF_AT_ZERO = {"clipnorm", "global_clipnorm", "clipvalue"}

DASH = "—"


def reflow(text: str) -> str:
    """``text`` with the line breaks inside its paragraphs removed (a scenario file's
    multi-line string wraps at the file's width; a toast wraps at its own)."""
    blocks = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    return "\n\n".join(block for block in blocks if block)


def loss_name(surface: bool, *, long: bool = False) -> str:
    """How a view names a racer's reported loss: ``f`` on a surface race (the function's
    value at the racer's point), else the whole-training-set loss, ``train`` (``long``:
    ``train loss``)."""
    if surface:
        return "f"
    return "train loss" if long else "train"


def badge(status: str, *, short: bool = False) -> str:
    """Content markup for a status badge, e.g. ``"[$success]✔ converged[/]"``."""
    symbol, word, colour = BADGES.get(status, ("?", status, "$foreground"))
    text = symbol if short else f"{symbol} {word}"
    return f"[{colour}]{escape(text)}[/]"


def badge_text(status: str, variables: Mapping[str, str], *, short: bool = False) -> Text:
    """The badge as Rich Text with the theme's colour resolved (for DataTable cells)."""
    symbol, word, colour = BADGES.get(status, ("?", status, "$foreground"))
    style = variables.get(colour.removeprefix("$"), "")
    return Text(symbol if short else f"{symbol} {word}", style=style)


def race_state_badge(state: str) -> str:
    symbol, word, colour = RACE_STATES.get(state, ("?", state, "$foreground"))
    return f"[bold {colour}]{symbol} {word}[/]"


def swatch(colour: str) -> str:
    """A coloured block in the racer's colour (markup)."""
    return f"[{colour}]█[/]"


def num(value: float | None, digits: int = 4) -> str:
    """A compact number: 4 significant digits, scientific when tiny or huge, '—' for none."""
    if value is None:
        return DASH
    if isinstance(value, float) and math.isnan(value):
        return DASH
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude < 1e-3 or magnitude >= 1e5:
        return f"{value:.{max(1, digits - 2)}e}"
    return f"{value:.{digits}g}"


def pct(value: float | None) -> str:
    """A fraction in [0, 1] as a percentage, '—' for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    return f"{100 * value:.1f}%"


def hparam_value(value: float | int | bool | str) -> str:
    if isinstance(value, str):  # a wrapper's inner optimizer
        return value
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    return f"{value:g}"


def flavor_tag(flavor: str) -> str:
    """``""`` for the default torch flavor, ``"(keras) "`` for another one."""
    return "" if flavor == "torch" else f"({flavor}) "


def key_hparams(
    hparams: Mapping[str, float | int | bool | str], limit: int = 4, optimizer: str = ""
) -> str:
    """The hyperparameters worth a glance: lr, the switches that are on (nesterov, amsgrad:
    they tell racers of one optimizer apart) unless the optimizer is named after one, then
    the rest minus the quiet ones."""
    parts: list[str] = []
    if "lr" in hparams:
        parts.append(f"lr={hparam_value(hparams['lr'])}")
    parts += [
        SHORT_NAMES.get(name, name)
        for name, value in hparams.items()
        if value is True and name != optimizer
    ]
    for name, value in hparams.items():
        if name == "lr" or name in QUIET_HPARAMS or isinstance(value, bool):
            continue
        if name in OFF_AT_ZERO and value == 0:
            continue
        parts.append(f"{SHORT_NAMES.get(name, name)}={hparam_value(value)}")
    return " ".join(parts[:limit])


#: One glyph per racer (by its place in the race), so racers are told apart without colour
#: (NO_COLOR): on cards, in the table, on the surface and as chart markers.
GLYPHS = "●▲■◆▼◀▶◉△□▽◁▷○◇"
#: WCAG contrast a racer's colour keeps against the theme's background.
MIN_CONTRAST = 3.0


def racer_glyph(index: int) -> str:
    """The glyph of the racer at ``index`` in the race's order."""
    return GLYPHS[index % len(GLYPHS)]


def colour_off() -> bool:
    """True when the user asked for no colour (the NO_COLOR convention)."""
    return os.environ.get("NO_COLOR", "") != ""


def _luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two hex colours (1 to 21)."""
    high, low = sorted(
        (_luminance(Color.parse(foreground)), _luminance(Color.parse(background))), reverse=True
    )
    return (high + 0.05) / (low + 0.05)


def readable(colour: str, background: str) -> str:
    """``colour``, darkened (light background) or lightened (dark) just enough to keep
    MIN_CONTRAST against ``background``: a yellow racer stays legible on a light theme."""
    if contrast(colour, background) >= MIN_CONTRAST:
        return colour
    base, target = Color.parse(colour), Color.parse(background)
    towards = Color(0, 0, 0) if _luminance(target) > 0.18 else Color(255, 255, 255)
    for step in range(1, 21):
        candidate = base.blend(towards, step / 20).hex
        if contrast(candidate, background) >= MIN_CONTRAST:
            return candidate
    return towards.hex
