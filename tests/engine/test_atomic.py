"""Atomic writes: the target holds the old bytes or the new ones, never a part of them."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tui_optim.engine.atomic import atomic_write, check_writable_target, current_umask


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    """Names in ``directory`` other than ``keep`` (a temporary file left behind, say)."""
    return sorted(name for name in os.listdir(directory) if name not in keep)


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_write(target) as stream:
        stream.write("new\n")
        assert target.read_text() == "old\n"  # nothing visible until the block ends
    assert target.read_text() == "new\n"
    assert leftovers(tmp_path, {"out.csv"}) == []


def test_a_failure_half_way_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("complete old document")
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(target) as stream:
        stream.write("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "complete old document"
    assert leftovers(tmp_path, {"out.json"}) == []


def test_an_interrupt_creates_nothing_when_there_was_no_file(tmp_path: Path) -> None:
    target = tmp_path / "new.npz"
    with pytest.raises(KeyboardInterrupt), atomic_write(target, "wb") as stream:
        stream.write(b"\x00" * 1000)
        raise KeyboardInterrupt
    assert leftovers(tmp_path, set()) == []


def test_binary_mode_writes_bytes_as_given(tmp_path: Path) -> None:
    target = tmp_path / "w.bin"
    payload = bytes(range(256)) * 4
    with atomic_write(target, "wb") as stream:
        stream.write(payload)
    assert target.read_bytes() == payload


def test_newline_is_passed_to_the_text_stream(tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    with atomic_write(target, newline="\r\n") as stream:
        stream.write("a\nb\n")
    assert target.read_bytes() == b"a\r\nb\r\n"


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_text("{}")
    target.chmod(0o600)
    with atomic_write(target) as stream:
        stream.write('{"a": 1}')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        with atomic_write(tmp_path / "fresh.txt") as stream:
            stream.write("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "fresh.txt").stat().st_mode) == 0o640
    assert current_umask() == previous  # reading the umask did not change it


def test_a_symbolic_link_stays_a_link_to_the_new_content(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_write(link) as stream:
        stream.write("new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_dangling_link_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "missing.txt")
    with atomic_write(link) as stream:
        stream.write("made")
    assert link.is_symlink() and (tmp_path / "missing.txt").read_text() == "made"


def test_a_directory_is_refused_in_one_line_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "results"
    target.mkdir()
    with pytest.raises(OSError, match=r"results: a directory; give a file name$"):
        check_writable_target(target)
    with pytest.raises(OSError, match="a directory"), atomic_write(target) as stream:
        stream.write("never")
    assert target.is_dir() and leftovers(tmp_path, {"results"}) == []


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with atomic_write(fifo) as stream:
        stream.write("through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe, not a file put over it
    assert leftovers(tmp_path, {"pipe"}) == []


def test_a_character_device_is_written_in_place() -> None:
    with atomic_write(Path(os.devnull)) as stream:
        stream.write("discarded")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
