"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed.

Every file embedkit writes (stores, indexes, manifests, exports, plots, models) goes
through :func:`atomic_path`, so a crash, SIGKILL or Ctrl-C leaves either the old file or
the new one at the target path, never a half-written one. What a SIGKILL leaves is a
hidden temporary file beside the target; the next write of that target removes the ones
untouched for :data:`STALE_SECONDS`. The command line removes every temporary file it
created when a command fails or is interrupted, wherever the signal landed, and a signal
during the creation or the rename of a temporary file takes effect after that step.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_SECONDS = 6 * 3600
"""A leftover temporary file untouched this long is from a killed writer, and is removed."""


def remove_stale(target: Path, suffix: str = ".tmp", age: float = STALE_SECONDS) -> list[Path]:
    """Delete the temporary files a SIGKILLed write of ``target`` left beside it.

    Only files named like :class:`AtomicFile`'s (``.<target name>.*<suffix>``) and not
    modified for ``age`` seconds are removed (a live writer keeps its file fresh).
    """
    removed = []
    cutoff = time.time() - age
    for path in target.parent.glob(f".{target.name}.*{suffix}"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or not ours to remove
            continue
    return removed


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "named pipe (fifo)"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _destination(target: str | os.PathLike) -> tuple[Path, Path]:
    """``(the user's path, the file to replace)``: a symbolic link is followed to the file it
    points to (the link stays); a :class:`UsageError` when that is something other than a
    regular file (folder, device, fifo, socket), which is never touched."""
    from embedkit.errors import UsageError

    user = Path(target)
    real = Path(os.path.realpath(user))
    if os.path.islink(real):
        raise UsageError(f"{user} is a symbolic link that loops; give a file path")
    _refuse_special(user, real)
    return user, real


def _refuse_special(user: Path, real: Path) -> None:
    """A :class:`UsageError` when ``real`` exists and is not a regular file."""
    from embedkit.errors import UsageError

    try:
        mode = os.lstat(real).st_mode
    except OSError:  # absent (or behind a file: reported with the folder)
        return
    shown = f"{user} (a link to {real})" if os.path.islink(user) else str(user)
    if stat.S_ISDIR(mode):
        raise UsageError(f"{shown} is not a regular file: it is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{shown} is not a regular file; give a file path "
                         f"(it is a {_kind(mode)})")


def _existing_folder(user: Path, real: Path) -> Path:
    """The nearest folder of ``real`` that exists (its parent unless folders are missing);
    a :class:`UsageError` when a file stands where a folder should be."""
    from embedkit.errors import UsageError

    folder = real.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {user}: {folder} is a file, not a folder")
    return folder


def _cannot_write(user: Path, folder: Path, err: OSError) -> Exception:
    """The error for a folder that refused a file: names the user's path, not a temp file."""
    from embedkit.errors import UsageError

    if err.errno in (errno.EACCES, errno.EPERM):
        why = f"no permission to write in {folder}"
    elif err.errno == errno.EROFS:
        why = f"{folder} is on a read-only file system"
    else:
        why = f"files cannot be created in {folder} ({err.strerror or err})"
    return UsageError(f"cannot write {user}: {why}; give a path in a folder you can write")


def check_writable(target: str | os.PathLike) -> Path:
    """``target`` as a Path, or a :class:`UsageError` now (not after hours of work) when it
    cannot be written: it is a folder, device, fifo or socket, a folder in its way is a file,
    or its folder refuses new files (read-only, no permission, /proc-like).

    The folder is tried for real: a temporary file (a temporary folder where folders are
    still missing) is created in it and removed at once, so nothing stays behind. A
    symbolic link is checked at the file it points to, which is what gets written.
    """
    user, real = _destination(target)
    folder = _existing_folder(user, real)
    try:
        if folder == real.parent:
            fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=folder)
            os.close(fd)
            os.unlink(name)
        else:  # the missing folders will be created here
            os.rmdir(tempfile.mkdtemp(prefix=f".{real.name}.", suffix=".tmp", dir=folder))
    except OSError as err:
        raise _cannot_write(user, folder, err) from None
    return user


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Targets replaced in this process, in order: an interrupted command can say what it wrote.
COMMITTED: list[Path] = []

# Temporary files created and neither committed nor discarded yet: what an interrupted
# command removes (see :func:`discard_open`), wherever the interrupt landed.
_OPEN: set[Path] = set()


def discard_open() -> None:
    """Remove every temporary file this process created and did not commit or discard."""
    for path in list(_OPEN):
        path.unlink(missing_ok=True)
    _OPEN.clear()


# Signals that arrived inside :func:`deferred_signals` (the CLI's handler puts them here).
PENDING_SIGNALS: list[int] = []
_DEFERRING = [0]


def deferring() -> bool:
    """Whether a step that must not be cut in two (create + register a temporary file,
    rename + record it) is running: a signal handler should then call :func:`defer`."""
    return _DEFERRING[0] > 0


def defer(signum: int) -> None:
    PENDING_SIGNALS.append(signum)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Run the block whole: a signal that arrives meanwhile is re-sent when it ends, so its
    exception is raised after the block, where the caller can clean up."""
    _DEFERRING[0] += 1
    pending = None
    try:
        yield
    finally:  # an error leaving the block ends the command anyway: its signal is dropped
        _DEFERRING[0] -= 1
        if not _DEFERRING[0] and PENDING_SIGNALS:
            pending = PENDING_SIGNALS[-1]
            PENDING_SIGNALS.clear()
    if pending is not None:
        os.kill(os.getpid(), pending)  # the handler raises now, outside the block


class AtomicFile:
    """A temporary path beside ``target``: :meth:`commit` renames it over the target,
    :meth:`discard` removes it. The target is untouched until :meth:`commit`.

    A symbolic link is followed: the file it points to is replaced and the link stays.
    A target that is not a regular file (folder, device, fifo, socket), or whose folder
    refuses files, is a :class:`~embedkit.errors.UsageError` naming ``target``.
    """

    def __init__(self, target: str | os.PathLike, suffix: str = ".tmp"):
        self.target, self.real = _destination(target)
        folder = _existing_folder(self.target, self.real)
        try:
            self.real.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(self.real, suffix)
            with deferred_signals():  # created and registered, or neither
                fd, name = tempfile.mkstemp(prefix=f".{self.real.name}.", suffix=suffix,
                                            dir=self.real.parent)
                self.path = Path(name)
                _OPEN.add(self.path)
        except OSError as err:
            raise _cannot_write(self.target, folder, err) from None
        os.close(fd)

    def commit(self) -> Path:
        """fsync the finished temporary file and rename it over the target."""
        os.chmod(self.path, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
        fsync_path(self.path)
        _refuse_special(self.target, self.real)  # still a regular file (or absent)
        with deferred_signals():  # renamed and recorded, or neither
            try:
                os.replace(self.path, self.real)
            except OSError as err:
                raise _cannot_write(self.target, self.real.parent, err) from None
            COMMITTED.append(self.target)
            _OPEN.discard(self.path)
        fsync_path(self.real.parent)
        return self.target

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        _OPEN.discard(self.path)


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The caller writes and closes the temporary file inside the ``with`` block. On an
    exception (KeyboardInterrupt included) the temporary file is removed and ``target`` is
    left as it was.
    """
    atomic = None
    try:
        with deferred_signals():  # a signal cannot land between creating and registering
            atomic = AtomicFile(target, suffix)
        yield atomic.path
        atomic.commit()
    except BaseException:
        if atomic is not None:
            atomic.discard()
        raise


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    return write_bytes(target, text.encode("utf-8"))


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file's (or folder's) data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
