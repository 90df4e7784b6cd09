"""Every use of plotext's and textual-plotext's private API, in one place.

The chart needs four things neither package offers publicly: a bare figure object for the
chart process (``plotext._figure._figure_class``), plotext's theme table to copy a theme
into that process (``plotext._dict.themes``), a figure's own size besides its plot size
(``_set_size``: without it a reused figure keeps the previous terminal's size), and the
theme name textual-plotext derives from the app's theme (``_get_plotext_theme_name``).
Names with a leading underscore can change in any release, so both packages are pinned
exactly in pyproject.toml and an upgrade has this one module to check.

No Textual import here: the chart process imports this module and must start quickly.
"""

from __future__ import annotations

from typing import Any


def new_figure() -> Any:
    """A plotext figure of its own (not the module-level one ``plotext`` draws on)."""
    from plotext._figure import _figure_class

    return _figure_class()


def theme_spec(name: str) -> tuple[Any, ...] | None:
    """The definition of plotext theme ``name`` in this process, or None if unknown."""
    from plotext._dict import themes

    spec: tuple[Any, ...] | None = themes.get(name)
    return spec


def register_theme(name: str, spec: tuple[Any, ...]) -> None:
    """Make ``name`` a plotext theme in this process (as textual-plotext does in the app's)."""
    from plotext._dict import themes

    themes[name] = spec


def set_figure_size(figure: Any, width: int, height: int) -> None:
    """Size ``figure`` and its plot to ``width`` x ``height`` characters."""
    figure.plotsize(width, height)
    figure._set_size(width, height)


def plot_theme_name(plot: Any, app_theme: str) -> str:
    """The plotext theme a textual-plotext ``PlotextPlot`` uses under the app theme."""
    name: str = plot._get_plotext_theme_name(app_theme)
    return name
