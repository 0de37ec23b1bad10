"""Atomic writes: the target is replaced only when complete, and an unwritable target is
refused up front with a one-line reason."""

from __future__ import annotations

import os
import re

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
        with pytest.raises(UsageError, match=re.escape(f"cannot write {folder / 'out.txt'}: no "
                                                       f"permission to write in {folder}; ")):
            atomic_path(folder / "out.txt").__enter__()
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


def test_symlink_target_is_written_through(tmp_path):
    real = tmp_path / "data" / "model.pt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.pt"
    link.symlink_to(os.path.join("data", "model.pt"))  # relative, as users make them
    with atomic_path(link) as tmp:
        tmp.write_text("new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "model.pt")
    assert real.read_text() == "new" and link.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["data", "link.pt"]
    assert os.listdir(real.parent) == ["model.pt"]
    assert check_writable(link) == link
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(UsageError, match="loop is a symbolic link that loops"):
        check_writable(tmp_path / "loop")


@pytest.mark.parametrize("kind", ["fifo", "folder", "link to a fifo"])
def test_special_targets_are_refused_untouched(tmp_path, kind):
    special = tmp_path / "special"
    if kind == "folder":
        special.mkdir()
        (special / "inside").write_text("kept")
    else:
        os.mkfifo(special)
    target = tmp_path / "link" if kind.startswith("link") else special
    if target != special:
        target.symlink_to(special)
    before = os.lstat(special)
    message = re.escape(str(target)) + ".* is not a regular file"
    with pytest.raises(UsageError, match=message) as caught:
        check_writable(target)
    assert caught.value.exit_code == 2
    with pytest.raises(UsageError, match=message), atomic_path(target) as tmp:
        tmp.write_text("never")
    after = os.lstat(special)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    expected = ["special"] + (["link"] if target != special else [])
    assert sorted(os.listdir(tmp_path)) == sorted(expected)  # no temp file left
    if kind == "folder":
        assert os.listdir(special) == ["inside"]
    else:
        assert "give a file path (it is a named pipe (fifo))" in str(caught.value)


def test_check_writable_tries_the_folder_and_leaves_nothing_behind(tmp_path, monkeypatch):
    import tempfile

    made = []
    for name in ("mkstemp", "mkdtemp"):
        def spy(*args, _real=getattr(tempfile, name), **kwargs):
            made.append(_real(*args, **kwargs))
            return made[-1]
        monkeypatch.setattr(tempfile, name, spy)
    (tmp_path / "kept.pt").write_text("kept")
    mtime = (tmp_path / "kept.pt").stat().st_mtime_ns
    assert check_writable(tmp_path / "kept.pt") == tmp_path / "kept.pt"
    assert check_writable(tmp_path / "new.pt") == tmp_path / "new.pt"
    assert check_writable(tmp_path / "a" / "b" / "new.pt") == tmp_path / "a" / "b" / "new.pt"
    assert len(made) == 3  # a real file (a folder where folders are missing) was made...
    assert os.listdir(tmp_path) == ["kept.pt"]  # ...and removed; no folder made either
    assert (tmp_path / "kept.pt").read_text() == "kept"
    assert (tmp_path / "kept.pt").stat().st_mtime_ns == mtime


@pytest.mark.parametrize("missing_parent", [False, True])
def test_folder_refusing_files_names_the_users_path(tmp_path, monkeypatch, missing_parent):
    """A folder that refuses new files although its permission bits allow them, as /proc
    does even for root: the error names the user's path and what to do, never the name of
    a temporary file, and it comes from check_writable before any work."""
    import tempfile

    def refuse(*args, dir=None, **kwargs):
        name = os.path.join(dir, ".x.pt.bxpaqjl.tmp")
        raise FileNotFoundError(2, "No such file or directory", name)

    def refuse_mkdir(self, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(self))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    monkeypatch.setattr(type(tmp_path), "mkdir", refuse_mkdir)
    target = tmp_path / "sub" / "x.pt" if missing_parent else tmp_path / "x.pt"
    for attempt in (lambda: check_writable(target), lambda: atomic_path(target).__enter__()):
        with pytest.raises(UsageError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"cannot write {target}: files cannot be created in {tmp_path}")
        assert "give a path in a folder you can write" in message
        assert ".tmp" not in message and "bxpaqjl" not in message
    assert os.listdir(tmp_path) == []


def test_a_signal_during_create_or_rename_is_raised_after_the_step(tmp_path):
    """With the CLI's handler installed, SIGTERM inside deferred_signals() is raised when the
    block ends, so a temporary file is never created without being registered, nor renamed
    without being recorded."""
    import signal

    from embedkit import atomic
    from embedkit.cli import Terminated, _on_signal

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        reached = []
        with pytest.raises(Terminated), atomic.deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("end of the block")
        assert reached == ["end of the block"] and not atomic.PENDING_SIGNALS
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_interrupt_anywhere_in_an_import_leaves_no_temporary_file(tmp_path, monkeypatch,
                                                                    gensim_data):
    """A Ctrl-C that lands after the store's temporary file exists but before any cleanup
    handler runs (here: while h5py opens it) is cleaned up by the command."""
    from embedkit import store
    from tests.cli_helpers import run_cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.h5py, "File", interrupted)  # restored after the test
    monkeypatch.setenv("EMBEDKIT_HOME", str(tmp_path))
    result = run_cli("import", gensim_data / "test_glove.txt", "--name", "g")
    assert result.exit_code == 130 and "nothing was changed" in result.stderr
    assert not list(tmp_path.rglob("*.tmp")) and not (tmp_path / "g").exists()


def test_a_signal_deferred_in_a_failing_step_is_not_kept_for_later():
    import signal

    from embedkit import atomic
    from embedkit.cli import _on_signal

    previous = signal.signal(signal.SIGTERM, _on_signal)
    try:
        with pytest.raises(OSError), atomic.deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            raise OSError("the step failed")
        assert not atomic.PENDING_SIGNALS and not atomic.deferring()
        with atomic.deferred_signals():  # a later step is not interrupted by the old signal
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
