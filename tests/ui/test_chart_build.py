"""The loss chart's drawing: ticks that a person can read, on a log y axis and on x."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tui_optim.ui.chart_build import ChartPlan, Curve, draw_chart, log_ticks, round_ticks
from tui_optim.ui.plotext_private import new_figure


@pytest.mark.parametrize(
    ("low", "high", "count", "labels"),
    [
        (1e-22, 0.83, 8, ["0.1", "1e-4", "1e-7", "1e-10", "1e-13", "1e-16", "1e-19", "1e-22"]),
        (2e-4, 0.83, 8, ["0.1", "0.01", "0.001"]),
        (1e-3, 1e3, 3, ["1000", "1", "0.001"]),
        (0.9, 12.0, 4, ["10", "1"]),
        (0.3, 0.83, 5, ["0.83", "0.644", "0.499", "0.387", "0.3"]),
        (3.7036731, 3.7036735, 4, ["3.7036735", "3.7036734", "3.7036732", "3.7036731"]),
        (0.5, 0.5, 4, ["0.5"]),
    ],
)
def test_log_ticks_are_decades_or_short_geometric_steps(
    low: float, high: float, count: int, labels: list[str]
) -> None:
    ticks, got = log_ticks(low, high, count)
    assert got == labels
    assert len(ticks) == len(labels) <= count
    assert all(low * (1 - 1e-12) <= tick <= high * (1 + 1e-12) for tick in ticks)
    assert all(
        float(label) == pytest.approx(tick, rel=5e-3)
        for tick, label in zip(ticks, got, strict=True)
    )


def test_a_log_chart_over_twenty_decades_is_labelled_in_decades() -> None:
    """plotext's own labels were fixed point: 1e-22 read "0.0000000000000000000"."""
    x = np.arange(1.0, 101.0)
    plan = ChartPlan(
        72,
        24,
        "dark",
        None,
        [Curve(x, np.logspace(0, -20, 100), (200, 40, 40))],
        [],
        "loss (log) vs step",
        True,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", draw_chart(new_figure(), plan))
    labels = re.findall(r"^\s*(\S+)┤", text, re.M)
    assert labels == ["1", "1e-4", "1e-8", "1e-12", "1e-16", "1e-20"]  # 24 rows: 6 ticks
    assert "0.000" not in text


@pytest.mark.parametrize(
    ("low", "high", "count", "labels"),
    [
        (3.0, 10000.0, 5, ["2000", "4000", "6000", "8000", "10000"]),
        (20.0, 15000.0, 5, ["5000", "10000", "15000"]),
        (0.1, 200.0, 5, ["50", "100", "150", "200"]),
        (0.0, 1.0, 5, ["0.00", "0.25", "0.50", "0.75", "1.00"]),
        (1.0, 120.0, 6, ["20", "40", "60", "80", "100", "120"]),
        (1.0, 7.0, 8, ["1", "2", "3", "4", "5", "6", "7"]),
        (0.001, 0.002, 3, ["0.0010", "0.0015", "0.0020"]),
        (5.0, 5.0, 4, ["5"]),
    ],
)
def test_round_ticks_are_the_finest_round_spacing_that_fits(
    low: float, high: float, count: int, labels: list[str]
) -> None:
    ticks, got = round_ticks(low, high, count)
    assert got == labels
    assert len(ticks) <= count
    assert all(low - 1e-9 <= tick <= high + 1e-9 for tick in ticks)
    assert all(float(label) == pytest.approx(tick) for tick, label in zip(ticks, got, strict=True))


def test_the_step_axis_is_labelled_at_round_steps() -> None:
    """plotext split the range evenly: a race recorded from step 3 read "2502.2", "5001.5"."""
    x = np.linspace(3.0, 10000.0, 200)
    plan = ChartPlan(
        76, 24, "dark", None, [Curve(x, np.linspace(1, 0.1, 200), (200, 40, 40))], [], "", False
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", draw_chart(new_figure(), plan))
    last_line = text.rstrip().splitlines()[-1]
    assert last_line.split() == ["2000", "4000", "6000", "8000", "10000"]


def y_labels(y: np.ndarray) -> list[str]:
    """The y tick labels of a linear chart of ``y`` against its index."""
    x = np.arange(len(y), dtype=float)
    plan = ChartPlan(76, 24, "dark", None, [Curve(x, y, (200, 40, 40))], [], "", False)
    text = re.sub(r"\x1b\[[0-9;]*m", "", draw_chart(new_figure(), plan))
    return [m.group(1) for m in re.finditer(r"^\s*(\S+)┤", text, re.MULTILINE)]


def test_a_linear_y_axis_is_labelled_at_round_values_short_when_large() -> None:
    """plotext split f's range evenly ("3.5 1.8 0.2 -3.2") and wrote saddle's runaway in
    fixed point ("-1507219909.1")."""
    peaks = y_labels(np.linspace(3.6, -6.6, 50))
    assert peaks and all(float(label) % 2 == 0 for label in peaks)
    runaway = y_labels(np.linspace(1.0, -9.04e9, 50))
    assert runaway and all(re.fullmatch(r"-?\d(\.\d+)?e\+0\d|0", label) for label in runaway)
