"""Work-arounds for Textual faults that fast typing reaches (checked against Textual 8.2.8).

``OptionList._move_page`` reads ``_index_to_line[highlighted]`` without the guard its
sibling ``scroll_to_highlight`` has: until the list is laid out, ``_update_lines`` returns
early (no content region yet) and the map is empty, so PageUp/PageDown typed in the same
burst as the key that opened the list (ctrl+p, then a letter, then PageDown in the command
palette) raised ``KeyError: 0`` and ended the app. Before layout there is no page to move
by: the key is ignored.

``CommandPalette`` queries its own children from its search worker (``_gather_commands``)
and from the watcher of ``_list_visible`` that the worker sets; both can run after Escape,
typed in the same burst, has begun removing those children, and the ``NoMatches`` ended
the app through the failed worker ("Worker raised exception: NoMatches('No nodes match
CommandList')"). A palette without its children has nothing to search for or show: that
search is dropped.

A screen dismissed twice (Escape typed twice before the dialog is gone) called its result
callback twice, and the second ``future.set_result`` raised ``InvalidStateError``: the
first result stands, the second is ignored.

``Select`` likewise queries its ``SelectCurrent`` child from key actions and watchers that
can run while a dialog holding it is being dismissed; without the child there is nothing
to update.
"""

from __future__ import annotations

import functools
from typing import Any

from textual import work
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import ResultCallback
from textual.widgets import OptionList, Select

_original_move_page = OptionList._move_page
_original_watch_list_visible = CommandPalette._watch__list_visible
# @work wraps the method (functools.wraps): the undecorated one is its __wrapped__, which the
# type of a decorated method does not declare.
_original_gather_commands = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]


def _move_page_once_laid_out(self: OptionList, direction: Any) -> None:
    if self._options and (self.highlighted or 0) not in self._index_to_line:
        return
    _original_move_page(self, direction)


def _watch_list_visible_while_composed(self: CommandPalette) -> None:
    try:
        _original_watch_list_visible(self)
    except NoMatches:
        return


@work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
async def _gather_commands_while_composed(self: CommandPalette, search_value: str) -> None:
    try:
        await _original_gather_commands(self, search_value)
    except NoMatches:
        return


_SELECT_METHODS = ("_watch_value", "_watch_expanded", "action_show_overlay", "_watch_prompt")
_original_select_methods = {name: getattr(Select, name) for name in _SELECT_METHODS}


def _while_composed(name: str) -> Any:
    original = _original_select_methods[name]

    @functools.wraps(original)  # the same signature: Textual counts a watcher's parameters
    def guarded(self: Select[Any], *args: Any) -> None:
        try:
            original(self, *args)
        except NoMatches:
            if self.is_attached and self.children:
                raise  # composed, yet the child is missing: a real fault
            return

    return guarded


_original_result_callback = ResultCallback.__call__


def _call_result_callback_once(self: ResultCallback[Any], result: Any) -> None:
    if self.future is not None and self.future.done():
        return
    _original_result_callback(self, result)


def apply() -> None:
    """Install the work-arounds (idempotent)."""
    # Replacing Textual's methods is the point here (mypy's method-assign objects to it).
    ResultCallback.__call__ = _call_result_callback_once  # type: ignore[method-assign]
    for name in _SELECT_METHODS:
        setattr(Select, name, _while_composed(name))
    OptionList._move_page = _move_page_once_laid_out  # type: ignore[method-assign]
    CommandPalette._watch__list_visible = _watch_list_visible_while_composed  # type: ignore[method-assign]
    CommandPalette._gather_commands = _gather_commands_while_composed  # type: ignore[method-assign]
