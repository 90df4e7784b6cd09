"""Text sparklines: bucket means, log scale, non-finite values skipped."""

from __future__ import annotations

import math

from tui_optim.ui.widgets.spark import BLOCKS, LINE, bar_chart, shared_span, spark


def test_a_falling_loss_goes_from_the_top_block_to_the_bottom_one() -> None:
    line = spark([10.0**-k for k in range(8)], width=8)
    assert line == BLOCKS[::-1]


def test_log_scale_spreads_decades_evenly() -> None:
    """Four decades over four cells: one level step per decade on a log scale; a linear
    scale squeezes the last three decades into the bottom two levels."""
    values = [1000.0, 100.0, 10.0, 1.0]
    assert spark(values, width=4) == "█▆▃▁"
    assert spark(values, width=4, log=False) == "█▂▁▁"


def test_buckets_average_when_there_are_more_points_than_cells() -> None:
    assert spark([1.0, 1.0, 4.0, 4.0], width=2, log=False) == "▁█"


def test_non_finite_and_non_positive_values_are_skipped() -> None:
    assert spark([math.nan, 10.0, math.inf, 1.0, 0.0, -1.0], width=2) == "█▁"


def test_flat_and_empty_series() -> None:
    assert spark([2.0, 2.0, 2.0], width=3) == "▁▁▁"
    assert spark([], width=4) == "    "
    assert spark([math.nan], width=2) == "  "


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


def test_a_bar_chart_starts_at_zero_so_rounding_noise_stays_flat() -> None:
    """The saddle's sharpness is 2 give or take 1e-12: even low bars under a line far
    above, never the noise stretched over the whole height."""
    noisy = [2.0 + 1e-12 * math.sin(i) for i in range(100)]
    chart = bar_chart(noisy, 20, 3, line=40.0)
    assert chart.rows[0] == LINE * 20 and chart.line_row == 0
    assert chart.rows[1] == " " * 20
    assert len(set(chart.rows[2])) == 1 and chart.rows[2][0] in BLOCKS[:2]
    assert not any(chart.over)


def test_bars_above_the_line_are_marked_and_the_line_runs_under_the_others() -> None:
    chart = bar_chart([10.0, 10.0, 30.0, 30.0], 4, 2, line=20.0)
    assert chart.over == (False, False, True, True)
    line_row = chart.rows[chart.line_row or 0]
    assert line_row[:2] == LINE * 2 and LINE not in line_row[2:]
    assert bar_chart([1.0, 2.0], 4, 2).line_row is None  # no line: none drawn
    assert bar_chart([], 3, 2).rows == ("   ", "   ")


def test_columns_show_their_largest_value_so_every_crossing_shows() -> None:
    """Sharpness alternating 32 / 21 around a limit of 28.6, 60 points in 20 columns: the
    means (24.8 or 28.6) fell under the line; the peaks are all over it."""
    alternating = [32.3 if i % 2 else 21.1 for i in range(60)]
    assert all(bar_chart(alternating, 20, 3, line=28.57).over)


def test_a_small_positive_bar_still_shows() -> None:
    """Sharpness 0.18 under a limit of 76: the lowest block, not an empty row that reads as
    no data."""
    chart = bar_chart([0.18, 0.17], 2, 3, line=76.0)
    assert chart.rows[-1] == BLOCKS[0] * 2
