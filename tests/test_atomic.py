"""Atomic writes: the target is replaced only when complete, and an unwritable target is
refused up front with a one-line reason."""

from __future__ import annotations

import os

import pytest

from embedkit.atomic import atomic_path, check_writable
from embedkit.errors import UsageError


def test_replaced_only_when_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]


def test_unwritable_targets_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="file is a file, not a folder"):
        check_writable(tmp_path / "file" / "deeper" / "out.txt")
    with pytest.raises(UsageError, match="it is a folder; give a file name"):
        check_writable(tmp_path)
    assert check_writable(tmp_path / "new" / "dirs" / "out.txt").name == "out.txt"
    with pytest.raises(UsageError, match="is a file, not a folder"), \
            atomic_path(tmp_path / "file" / "out.txt"):
        pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="no permission to write in"):
            check_writable(folder / "out.txt")
    finally:
        folder.chmod(0o700)
