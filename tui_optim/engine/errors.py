"""One-line user-facing errors shared by every engine registry."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class UnknownNameError(ValueError):
    """A name (optimizer, activation, dataset, surface ...) that no registry knows."""


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    neighbours each cost 1 (so the typo "adma" is 1 away from "adam")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``.

    The fewest typing mistakes win (ties go to difflib's similarity); failing that, a
    difflib close match.
    """
    names = list(choices)
    lowered = word.lower()
    scored = sorted(
        (
            edit_distance(lowered, name.lower()),
            -difflib.SequenceMatcher(None, lowered, name).ratio(),
            name,
        )
        for name in names
    )
    if scored and scored[0][0] <= max(1, len(word) // 3):
        return f" (did you mean {scored[0][2]!r}?)"
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, word: object, choices: Iterable[str]) -> str:
    """The one-line message for an unknown name, with a suggestion and the allowed names."""
    names = list(choices)
    hint = suggest(word, names) if isinstance(word, str) else ""
    return f"unknown {kind} {word!r}{hint}; allowed: {', '.join(names)}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with its control characters written as escapes (ESC as ``\\x1b``, a newline
    as ``\\n``): a name or key from a file cannot move the cursor, recolour or retitle the
    terminal it is printed on."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)
