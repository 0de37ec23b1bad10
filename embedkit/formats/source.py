"""Reading a vector file's bytes: transparent gzip/bz2/xz, its sha256, and progress.

Every importer reads through :class:`SourceFile`. It recognises compression by magic bytes
(not by extension), hashes the raw bytes as they stream past (so ``source_sha256`` costs no
second pass over a large file), reports how far into the raw file it has read (for the
progress bar), and keeps the first bytes (``head``) for format detection without seeking.
A UTF-8 byte order mark at the start is dropped.
"""

from __future__ import annotations

import hashlib
import lzma
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from embedkit.errors import InputFormatError, NotFoundError
from embedkit.sources import compression_of

HEAD_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"


class _HashingReader:
    """A raw file whose bytes go through sha256 as they are read.

    hashlib releases the GIL, so the hashing runs on a second thread (in read order) while
    the parser works on the first: on two cores it costs next to nothing.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._sha256 = hashlib.sha256()
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedkit-sha256")
        self._queued: deque[Future] = deque()
        self.position = 0
        self._again = b""

    def peek_start(self, n: int) -> bytes:
        """The first ``n`` bytes, which the next reads return again: the file is opened
        once, so a pipe (``<(zcat ...)``, ``/dev/stdin``) loses nothing."""
        self._again = self._read(n)
        return self._again

    def read(self, n: int = -1) -> bytes:
        again = self._again
        if again:
            if 0 <= n < len(again):
                self._again = again[n:]
                return again[:n]
            self._again = b""
            return again + self._read(-1 if n < 0 else n - len(again))
        return self._read(n)

    def _read(self, n: int) -> bytes:
        data = self._raw.read(n)
        self._queued.append(self._hasher.submit(self._sha256.update, data))
        if len(self._queued) > 4:  # never hold more than a few blocks for the hasher
            self._queued.popleft().result()
        self.position += len(data)
        return data

    def hexdigest(self) -> str:
        """The digest of everything read so far (waits for the hashing thread)."""
        while self._queued:
            self._queued.popleft().result()
        return self._sha256.hexdigest()

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._hasher.shutdown(wait=False, cancel_futures=True)
        self._raw.close()


class SourceFile:
    """A vector file opened for one streaming pass.

    ``head`` holds the first (decompressed) bytes; :meth:`read` returns them first, then the
    rest of the stream. ``compression`` is ``None``, ``"gzip"``, ``"bz2"`` or ``"xz"``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path("/dev/stdin" if str(path) == "-" else path)  # "-": standard input
        if not self.path.exists():
            raise NotFoundError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise InputFormatError("is a folder, not a vector file", self.path)
        self.size = self.path.stat().st_size
        self._raw = _HashingReader(open(self.path, "rb"))  # noqa: SIM115 - closed in close()
        magic = self._raw.peek_start(6)
        self.compression: str | None = None
        self._stream: BinaryIO = self._raw  # type: ignore[assignment]
        found = compression_of(magic)
        if found is not None:
            self.compression = found[0]
            self._stream = found[1](self._raw)  # type: ignore[arg-type]
        self._pending = b""
        self.head = self._read_stream(HEAD_BYTES)
        if self.head.startswith(_BOM):  # some editors put one in front of UTF-8 text
            self.head = self.head[len(_BOM):]
        self._pending = self.head

    def _read_stream(self, n: int) -> bytes:
        try:
            return self._stream.read(n)
        except (OSError, EOFError, lzma.LZMAError) as err:
            raise InputFormatError(
                f"corrupt or truncated {self.compression} data ({err}); re-download the file",
                self.path,
            ) from None

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            if len(data) < n:
                data += self._read_stream(n - len(data))
            return data
        return self._read_stream(n)

    @property
    def raw_position(self) -> int:
        """Bytes of the file on disk read so far (for progress)."""
        return self._raw.position

    def sha256(self) -> str:
        """sha256 of the whole file on disk (reads what the parse did not need)."""
        while self._raw.read(1 << 22):
            pass
        return self._raw.hexdigest()

    def close(self) -> None:
        self._stream.close()
        self._raw.close()

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

