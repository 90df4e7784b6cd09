"""Atomic file writes: a crash never leaves a half-written file over a good one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def check_writable_target(path: Path) -> None:
    """Raise OSError (with a one-line reason) when ``path`` must not be written as a file.

    A regular file or a new name is fine; a character device or a FIFO (``/dev/stdout``,
    ``/dev/null``) is written through, never replaced; anything else (a directory, a
    socket, a block device) is refused.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return
    kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
    raise OSError(f"{path}: {kind}; give a file name")


@contextlib.contextmanager
def atomic_write(
    path: Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    The file gets the permissions of the file it replaces, or those the umask allows for a
    new one. A symbolic link stays a link (the file it points to is replaced). A character
    device or FIFO is written through in place, never replaced; other non-regular targets
    raise OSError.
    """
    path = Path(path)
    if path.is_symlink():
        try:
            points_at_a_file = stat.S_ISREG(os.stat(path).st_mode)
        except FileNotFoundError:
            points_at_a_file = True  # a dangling link: create the file it names
        if points_at_a_file:
            path = path.resolve()
    check_writable_target(path)
    binary = "b" in mode
    text_options: dict[str, Any] = {} if binary else {"encoding": encoding, "newline": newline}
    try:
        existing = os.stat(path).st_mode
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing):
        with open(path, mode, **text_options) as stream:  # a device: in place
            yield stream
        return
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        permissions = 0o666 & ~current_umask() if existing is None else stat.S_IMODE(existing)
        os.fchmod(handle, permissions)
        with os.fdopen(handle, mode, **text_options) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
