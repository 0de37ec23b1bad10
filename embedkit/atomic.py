"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed.

Every file embedkit writes (stores, indexes, manifests, exports, plots, models) goes
through :func:`atomic_path`, so a crash, SIGKILL or Ctrl-C leaves either the old file or
the new one at the target path, never a half-written one. What a SIGKILL leaves is a
hidden temporary file beside the target; the next write of that target removes the ones
untouched for :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import os
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


def check_writable(target: str | os.PathLike) -> Path:
    """``target`` as a Path, or a :class:`UsageError` now (not after hours of work) when it
    cannot be written: a folder in its way is a file, or the folder is read-only."""
    from embedkit.errors import UsageError

    target = Path(target)
    if target.is_dir():
        raise UsageError(f"cannot write {target}: it is a folder; give a file name")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {target}: no permission to write in {folder}")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicFile:
    """A temporary path beside ``target``: :meth:`commit` renames it over the target,
    :meth:`discard` removes it. The target is untouched until :meth:`commit`."""

    def __init__(self, target: str | os.PathLike, suffix: str = ".tmp"):
        self.target = check_writable(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(self.target, suffix)
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=suffix,
                                    dir=self.target.parent)
        os.close(fd)
        self.path = Path(name)

    def commit(self) -> Path:
        """fsync the finished temporary file and rename it over the target."""
        os.chmod(self.path, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
        fsync_path(self.path)
        os.replace(self.path, self.target)
        fsync_path(self.target.parent)
        return self.target

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The caller writes and closes the temporary file inside the ``with`` block. On an
    exception (KeyboardInterrupt included) the temporary file is removed and ``target`` is
    left as it was.
    """
    atomic = AtomicFile(target, suffix)
    try:
        yield atomic.path
        atomic.commit()
    except BaseException:
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
