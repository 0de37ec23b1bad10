"""Small UTF-8 text files a user names (query words, benchmark lists): one clear error.

gzip, bz2 and xz files are decompressed first (recognised by their bytes), as gensim's
evaluators read them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zlib
from collections.abc import Callable
from pathlib import Path

from embedkit.errors import InputFormatError, NotFoundError

_COMPRESSED: dict[str, tuple[re.Pattern[bytes], Callable[[bytes], bytes]]] = {
    "gzip": (re.compile(rb"\x1f\x8b"), gzip.decompress),
    "bz2": (re.compile(rb"BZh[1-9]1AY&SY"), bz2.decompress),
    "xz": (re.compile(rb"\xfd7zXZ\x00"), lzma.decompress),
}


def read_utf8(path: str | Path, what: str = "file") -> str:
    """The text of ``path`` (a UTF-8 byte order mark dropped); a missing file or bytes that
    are not UTF-8 raise a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such {what}")
    try:
        return _decompressed(path).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFormatError(f"not UTF-8 text ({err.reason} at byte {err.start}); save it "
                               "as UTF-8", path) from None


def _decompressed(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with a gzip, bz2 or xz signature."""
    data = path.read_bytes()
    for name, (signature, decompress) in _COMPRESSED.items():
        if signature.match(data):
            try:
                return decompress(data)
            except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as err:
                raise InputFormatError(f"corrupt or truncated {name} data ({err}); "
                                       "re-download the file", path) from None
    return data
