"""Sparklines on one shared scale: a high and a low loss curve no longer look the same."""

from __future__ import annotations

from tui_optim.ui.widgets.spark import shared_span, spark


def test_a_shared_log_scale_tells_a_high_curve_from_a_low_one() -> None:
    high = [0.70, 0.6777]
    low = [0.0012, 0.001086]
    # each normalised to itself, both fall from the top to the bottom
    assert spark(high, 2) == spark(low, 2) == "█▁"
    span = shared_span([high, low])
    assert span == (0.001086, 0.70)
    assert spark(high, 2, span=span) == "██"
    assert spark(low, 2, span=span) == "▁▁"


def test_shared_span_skips_non_finite_and_non_positive_values() -> None:
    assert shared_span([[float("nan"), 0.0, 2.0], [float("inf"), 0.5]]) == (0.5, 2.0)
    assert shared_span([[float("nan")], []]) is None
