"""One-line user-facing errors shared by every engine registry."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UnknownNameError(ValueError):
    """A name (optimizer, activation, dataset, surface ...) that no registry knows."""


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, word: object, choices: Iterable[str]) -> str:
    """The one-line message for an unknown name, with a suggestion and the allowed names."""
    names = list(choices)
    hint = suggest(word, names) if isinstance(word, str) else ""
    return f"unknown {kind} {word!r}{hint}; allowed: {', '.join(names)}"
