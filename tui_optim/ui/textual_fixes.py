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

``Footer`` recomposes (removes, mounts and restyles every key) each time the screen's
bindings may have changed (a mount, any focus change), even when the keys it shows are the
same: a screen's start asked for five, a fifth of the first frame's work, and each tab
between panels for one more. It recomposes when the keys it would show differ from those
it shows, once for changes that come before the pending recompose runs.

``Select`` likewise queries its ``SelectCurrent`` child from key actions and watchers that
can run while a dialog holding it is being dismissed; without the child there is nothing
to update.
"""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any

from textual import work
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import ResultCallback
from textual.widgets import Footer, OptionList, Select

if TYPE_CHECKING:
    from textual.screen import Screen

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


#: Footers with a recompose scheduled and not yet run.
_footers_recomposing: weakref.WeakSet[Footer] = weakref.WeakSet()
#: What each footer shows: the keys it was last composed with.
_footer_keys: weakref.WeakKeyDictionary[Footer, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def _shown_keys(footer: Footer) -> tuple[Any, ...]:
    """The keys ``footer`` would show now (what its compose reads)."""
    return (
        footer.compact,
        footer.show_command_palette,
        tuple(
            (binding.key, binding.key_display, binding.description, binding.group, enabled, tip)
            for (_, binding, enabled, tip) in footer.screen.active_bindings.values()
            if binding.show
        ),
    )


def _bindings_changed_when_keys_differ(self: Footer, screen: Screen[Any]) -> None:
    self._bindings_ready = True
    if not screen.app.app_focus:
        return
    if not self.is_attached or screen is not self.screen or self in _footers_recomposing:
        return
    if _footer_keys.get(self) == _shown_keys(self):
        return
    _footers_recomposing.add(self)

    async def recompose() -> None:
        _footers_recomposing.discard(self)
        if self.is_attached:
            _footer_keys[self] = _shown_keys(self)
            await self.recompose()

    self.call_after_refresh(recompose)


def apply() -> None:
    """Install the work-arounds (idempotent)."""
    # Replacing Textual's methods is the point here (mypy's method-assign objects to it).
    Footer.bindings_changed = _bindings_changed_when_keys_differ  # type: ignore[method-assign]
    ResultCallback.__call__ = _call_result_callback_once  # type: ignore[method-assign]
    for name in _SELECT_METHODS:
        setattr(Select, name, _while_composed(name))
    OptionList._move_page = _move_page_once_laid_out  # type: ignore[method-assign]
    CommandPalette._watch__list_visible = _watch_list_visible_while_composed  # type: ignore[method-assign]
    CommandPalette._gather_commands = _gather_commands_while_composed  # type: ignore[method-assign]
