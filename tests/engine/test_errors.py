"""One-line messages for unknown names: edit distance, suggestions, the allowed list."""

from __future__ import annotations

import pytest

from tui_optim.engine.errors import edit_distance, suggest, unknown


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("adam", "adam", 0),
        ("adma", "adam", 1),  # a swap of neighbours costs 1, not 2
        ("adm", "adam", 1),
        ("adamw", "adam", 1),
        ("sgd", "adam", 4),
        ("", "abc", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_suggest_prefers_the_fewest_typing_mistakes() -> None:
    names = ["adam", "adamax", "adamw", "nadam", "radam"]
    assert suggest("adma", names) == " (did you mean 'adam'?)"
    assert suggest("ADAMX", names) == " (did you mean 'adamax'?)"


def test_suggest_stays_quiet_when_nothing_is_close() -> None:
    assert suggest("lbfgs", ["sgd", "adam"]) == ""


def test_unknown_names_the_kind_the_word_a_hint_and_every_allowed_name() -> None:
    message = unknown("optimizer", "rmsporp", ["sgd", "rmsprop"])
    assert message == "unknown optimizer 'rmsporp' (did you mean 'rmsprop'?); allowed: sgd, rmsprop"
    assert "\n" not in message


def test_unknown_with_a_non_string_gives_no_hint() -> None:
    assert unknown("dataset", 3, ["iris"]) == "unknown dataset 3; allowed: iris"
