"""Drawing a sweep as text: the sensitivity chart and the optimizer x lr heatmap.

Pure functions of a :class:`~tui_optim.results.sweep.SweepRecord` returning Rich ``Text``
(no Textual), so the sweep screen only lays them out. A sweep is drawn as a few summary
curves and one table, never a card per run: thousands of runs fit one screen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

from tui_optim.race.race import PALETTE

if TYPE_CHECKING:
    from tui_optim.results.sweep import SweepRecord

#: One colour per optimizer (the race palette's first entries).
LINE_COLOURS = PALETTE[:10]
#: The heatmap's shared scale, best to worst (viridis, reversed: bright is good).
HEAT = ("#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989",
        "#482878", "#440154")
DIVERGED_MARK = "✗"
BEST_MARK = "★"


def colour_of(entry: int) -> str:
    return LINE_COLOURS[entry % len(LINE_COLOURS)]


def _metric_text(value: float, metric: str, width: int = 6) -> str:
    if not math.isfinite(value):
        return "-"
    if metric == "val_accuracy":
        return f"{value:.0%}" if width < 5 else f"{value:.1%}"
    if metric == "steps_to_target":
        return f"{value:.0f}"
    return f"{value:.2g}" if width < 6 else f"{value:.3g}"


class _Scale:
    """Metric -> position in [0, 1] along the y axis or the heatmap's colours (log when
    every value is positive; 0 is the best end of the heatmap)."""

    def __init__(self, values: list[float], higher_is_better: bool):
        finite = [v for v in values if math.isfinite(v)]
        self.log = bool(finite) and min(finite) > 0
        mapped = [self._map(v) for v in finite]
        self.low = min(mapped) if mapped else 0.0
        self.high = max(mapped) if mapped else 1.0
        if self.high - self.low < 1e-12:
            self.low, self.high = self.low - 0.5, self.high + 0.5
        self.higher_is_better = higher_is_better

    def _map(self, value: float) -> float:
        return math.log10(value) if self.log else value

    def fraction(self, value: float) -> float:
        """0 at the lowest value, 1 at the highest."""
        return (self._map(value) - self.low) / (self.high - self.low)

    def value_at(self, fraction: float) -> float:
        mapped = self.low + fraction * (self.high - self.low)
        return 10**mapped if self.log else mapped

    def badness(self, value: float) -> float:
        """0 for the best value on screen, 1 for the worst."""
        f = self.fraction(value)
        return 1.0 - f if self.higher_is_better else f


def _all_values(record: SweepRecord) -> list[float]:
    out: list[float] = []
    for entry in range(len(record.spec.entries)):
        for cell in record.row(entry):
            if cell.runs:
                out += [cell.spread.median, cell.spread.q25, cell.spread.q75]
    return out


def sensitivity_chart(record: SweepRecord, width: int, height: int) -> Text:
    """lr on a log x axis, the metric on a log y axis (linear when a value is <= 0): per
    optimizer its median line and, shaded, its q25-q75 band; a learning rate whose median
    diverged is a ✗ on the top or bottom edge (the worst side)."""
    spec = record.spec
    label_width = 8
    plot_w = max(8, width - label_width - 1)
    plot_h = max(3, height - 2)
    scale = _Scale(_all_values(record), spec.higher_is_better)
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * plot_w for _ in range(plot_h)]
    lows, highs = math.log10(spec.lrs[0]), math.log10(spec.lrs[-1])
    span = highs - lows or 1.0

    def column(lr: float) -> int:
        return min(plot_w - 1, max(0, round((math.log10(lr) - lows) / span * (plot_w - 1))))

    def row(value: float) -> int:
        return min(plot_h - 1, max(0, round((1 - scale.fraction(value)) * (plot_h - 1))))

    worst_row = 0 if not spec.higher_is_better else plot_h - 1
    for entry in range(len(spec.entries)):
        colour = colour_of(entry)
        cells = [c for c in record.row(entry) if c.runs]
        for cell in cells:  # the bands first, so the lines draw over them
            s = cell.spread
            if math.isfinite(s.q25) and math.isfinite(s.q75):
                x = column(cell.lr)
                top, bottom = sorted((row(s.q25), row(s.q75)))
                for y in range(top, bottom + 1):
                    if grid[y][x][0] == " ":
                        grid[y][x] = ("░", f"{colour} dim")
        previous: tuple[int, int] | None = None
        for cell in cells:
            x = column(cell.lr)
            median = cell.spread.median
            if not math.isfinite(median):
                grid[worst_row][x] = (DIVERGED_MARK, f"bold {colour}")
                previous = None
                continue
            y = row(median)
            if previous is not None:
                px, py = previous
                steps = max(abs(x - px), abs(y - py))
                for k in range(1, steps):
                    ix = px + round((x - px) * k / steps)
                    iy = py + round((y - py) * k / steps)
                    if grid[iy][ix][0] in (" ", "░"):
                        grid[iy][ix] = ("·", colour)
            grid[y][x] = ("●", f"bold {colour}")
            previous = (x, y)
    text = Text(no_wrap=True, overflow="crop")
    ticks = {0: 1.0, plot_h // 2: 0.5, plot_h - 1: 0.0}
    for y in range(plot_h):
        label = ""
        if y in ticks:
            label = _metric_text(scale.value_at(ticks[y]), spec.metric, label_width)
        text.append(f"{label:>{label_width}}│", style="dim")
        for char, style in grid[y]:
            text.append(char, style=style)
        text.append("\n")
    text.append(" " * label_width + "└" + "─" * plot_w + "\n", style="dim")
    axis = [" "] * plot_w
    decades = range(math.ceil(lows - 1e-9), math.floor(highs + 1e-9) + 1)
    for decade in decades:
        label = f"1e{decade}"
        x = round((decade - lows) / span * (plot_w - 1))
        start = min(max(0, x - len(label) // 2), plot_w - len(label))
        if all(c == " " for c in axis[max(0, start - 1) : start + len(label) + 1]):
            axis[start : start + len(label)] = label
    if not list(decades):
        for lr in (spec.lrs[0], spec.lrs[-1]):
            label = f"{lr:g}"
            x = column(lr)
            start = min(max(0, x - len(label) // 2), plot_w - len(label))
            axis[start : start + len(label)] = label
    text.append(" " * (label_width + 1) + "".join(axis), style="dim")
    return text


def heatmap(record: SweepRecord, width: int) -> Text:
    """Optimizers in rows, learning rates in columns, each cell coloured by its median on
    one scale shared by the whole table (bright: good); ★ marks each row's best, ✗ a
    median that diverged, · a cell not run yet."""
    spec = record.spec
    name_width = min(16, max(len(e.name) for e in spec.entries) + 1)
    columns = len(spec.lrs)
    cell_width = max(1, min(7, (width - name_width) // max(columns, 1)))
    scale = _Scale(
        [
            cell.spread.median
            for entry in range(len(spec.entries))
            for cell in record.row(entry)
            if cell.runs
        ],
        spec.higher_is_better,
    )
    text = Text(no_wrap=True, overflow="crop")
    text.append(" " * name_width, style="dim")
    if cell_width >= 5:
        for lr in spec.lrs:
            text.append(f"{lr:>{cell_width}.2g}"[-cell_width:], style="dim")
    else:
        labels = [" "] * (columns * cell_width)
        for index, lr in enumerate(spec.lrs):
            exponent = math.log10(lr)
            if abs(exponent - round(exponent)) > 1e-9:
                continue
            label = f"1e{round(exponent)}"
            start = index * cell_width
            if start + len(label) <= len(labels) and all(
                c == " " for c in labels[max(0, start - 1) : start + len(label)]
            ):
                labels[start : start + len(label)] = label
        if all(c == " " for c in labels):
            text.append(f"lr {spec.lrs[0]:.2g} .. {spec.lrs[-1]:.2g} (log)", style="dim")
        else:
            text.append("".join(labels), style="dim")
    text.append("\n")
    for entry, item in enumerate(spec.entries):
        text.append(f"{item.name[: name_width - 1]:<{name_width}}", style=colour_of(entry))
        tuned = record.tuned(entry).lr_index
        for index, cell in enumerate(record.row(entry)):
            median = cell.spread.median
            if not cell.runs:
                text.append(f"{'·':^{cell_width}}", style="dim")
                continue
            if not math.isfinite(median):
                text.append(f"{DIVERGED_MARK:^{cell_width}}", style="bold red")
                continue
            level = min(len(HEAT) - 1, int(scale.badness(median) * len(HEAT)))
            background = HEAT[level]
            ink = "black" if level < len(HEAT) // 2 else "white"
            if cell_width >= 5:
                content = _metric_text(median, spec.metric, cell_width - 1)
                if index == tuned:
                    content = BEST_MARK + content
                content = f"{content:>{cell_width - 1}} "[:cell_width]
            else:
                content = (BEST_MARK if index == tuned else " ") * cell_width
                if cell_width > 1:
                    content = f"{content[0]:^{cell_width}}"
            text.append(content, style=f"{ink} on {background}")
        text.append("\n")
    best_value, worst_value = scale.value_at(0.0), scale.value_at(1.0)
    if spec.higher_is_better:
        best_value, worst_value = worst_value, best_value
    text.append(" " * name_width + "scale: ", style="dim")
    for colour in HEAT:
        text.append(" ", style=f"on {colour}")
    text.append(
        f" {_metric_text(best_value, spec.metric)} (best) .. "
        f"{_metric_text(worst_value, spec.metric)}   {BEST_MARK} tuned  {DIVERGED_MARK} diverged",
        style="dim",
    )
    return text


def tuned_lines(record: SweepRecord) -> Text:
    """One line per optimizer: tuned lr, median [q25, q75], width, diverged; the verdict."""
    spec = record.spec
    text = Text(no_wrap=True, overflow="ellipsis")
    per_entry = len(spec.lrs) * spec.seeds
    for entry in range(len(spec.entries)):
        tuned = record.tuned(entry)
        text.append(f"{tuned.name:<16.16}", style=colour_of(entry))
        if tuned.lr is None:
            text.append(" no usable learning rate yet")
        else:
            s = tuned.spread
            width = "-" if tuned.width_decades is None else f"{tuned.width_decades:.2f}"
            text.append(
                f" lr {tuned.lr:<8.3g} {_metric_text(s.median, spec.metric)} "
                f"[{_metric_text(s.q25, spec.metric)}, {_metric_text(s.q75, spec.metric)}]"
                f"  width {width} dec  diverged {tuned.diverged}/{per_entry}"
            )
        text.append("\n")
    if record.complete:
        text.append(record.comparison()["verdict"], style="bold")
    return text
